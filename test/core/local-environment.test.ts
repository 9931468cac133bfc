import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { devNull, tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import {
  localEnvironment,
  parseEnvFlags,
  readEnvFile,
  receivedEnvironment,
} from "../../core/local-environment";

/** The shell that runs serve, with what a developer's shell typically holds. */
const SHELL = {
  PATH: "/home/dev/bin:/usr/bin",
  HOME: "/home/dev",
  USER: "dev",
  TMPDIR: "/tmp/dev",
  TERM: "xterm-256color",
  PULUMI_CONFIG_PASSPHRASE: "hunter2",
  PULUMI_ACCESS_TOKEN: "pul-123",
  GITHUB_TOKEN: "ghp_123",
  AWS_PROFILE: "dev",
  AWS_ACCESS_KEY_ID: "AKIADEVELOPER",
  AWS_SECRET_ACCESS_KEY: "developer-secret",
  AWS_CONFIG_FILE: "/home/dev/.aws/config",
  AWS_ENDPOINT_URL: "http://localhost:4566",
  AWS_REGION: "ap-south-1",
  NODE_OPTIONS: "--inspect",
  npm_config_registry: "https://registry.example",
  SSH_AUTH_SOCK: "/tmp/ssh.sock",
};

/** What the stub sends for a deployed function. */
const FUNCTION = {
  AWS_ACCESS_KEY_ID: "ASIAROLE",
  AWS_SECRET_ACCESS_KEY: "role-secret",
  AWS_SESSION_TOKEN: "role-token",
  AWS_REGION: "eu-west-1",
  AWS_LAMBDA_FUNCTION_NAME: "orders-fn",
  TZ: ":UTC",
  TABLE: "orders",
};

const cases: Array<{
  name: string;
  machine: NodeJS.ProcessEnv;
  fn: Record<string, string>;
  local?: Record<string, string>;
  expected: Record<string, string>;
}> = [
  {
    name: "the function's variables, the markers and the machine basics; nothing else of the shell",
    machine: SHELL,
    fn: FUNCTION,
    expected: {
      PATH: SHELL.PATH,
      HOME: SHELL.HOME,
      USER: SHELL.USER,
      TMPDIR: SHELL.TMPDIR,
      TERM: SHELL.TERM,
      AWS_CONFIG_FILE: devNull,
      AWS_SHARED_CREDENTIALS_FILE: devNull,
      ...FUNCTION,
      PULUMI_LIVE: "true",
      IS_LOCAL: "true",
    },
  },
  {
    name: "a request's machine, loader and stub variables are dropped; the function's own files are kept",
    machine: { PATH: "/usr/bin" },
    fn: {
      PATH: "/var/lang/bin",
      HOME: "/home/sbx_user1051",
      LAMBDA_TASK_ROOT: "/var/task",
      _HANDLER: "index.handler",
      NODE_OPTIONS: "--require /tmp/x.js",
      NODE_PATH: "/opt/nodejs",
      NODE_EXTRA_CA_CERTS: "/var/task/ca.pem",
      LD_PRELOAD: "/tmp/x.so",
      LD_LIBRARY_PATH: "/opt/lib",
      DYLD_INSERT_LIBRARIES: "/tmp/x.dylib",
      PULUMI_LIVE_KEY: "c2VjcmV0",
      PULUMI_LIVE_PREFIX: "pulumi-live/a/b",
      NODE_ENV: "production",
      AWS_CONFIG_FILE: "/var/task/aws-config",
    },
    expected: {
      PATH: "/usr/bin",
      AWS_CONFIG_FILE: "/var/task/aws-config",
      AWS_SHARED_CREDENTIALS_FILE: devNull,
      NODE_ENV: "production",
      PULUMI_LIVE: "true",
      IS_LOCAL: "true",
    },
  },
  {
    name: "the developer's explicit local variables win over everything",
    machine: {},
    fn: { TABLE: "orders", DB_HOST: "db.internal" },
    local: { DB_HOST: "localhost", PULUMI_LIVE: "yes" },
    expected: {
      AWS_CONFIG_FILE: devNull,
      AWS_SHARED_CREDENTIALS_FILE: devNull,
      TABLE: "orders",
      DB_HOST: "localhost",
      PULUMI_LIVE: "yes",
      IS_LOCAL: "true",
    },
  },
  {
    name: "Windows names are compared without case",
    machine: { Path: "C:\\Windows", SystemRoot: "C:\\Windows", USERPROFILE: "C:\\Users\\dev", Secret: "x" },
    fn: {},
    expected: {
      Path: "C:\\Windows",
      SystemRoot: "C:\\Windows",
      USERPROFILE: "C:\\Users\\dev",
      AWS_CONFIG_FILE: devNull,
      AWS_SHARED_CREDENTIALS_FILE: devNull,
      PULUMI_LIVE: "true",
      IS_LOCAL: "true",
    },
  },
];

for (const c of cases) {
  test(`localEnvironment: ${c.name}`, (t) => {
    t.deepEqual(localEnvironment(c.machine, c.fn, c.local), c.expected);
  });
}

test("receivedEnvironment keeps a function's own NODE_ variables that do not load code", (t) => {
  t.deepEqual(receivedEnvironment({ NODE_ENV: "production", NODE_OPTIONS: "--x", node_options: "--y" }), {
    NODE_ENV: "production",
  });
});

test("an env file is read as dotenv; a missing one is undefined; flags report every malformed pair", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-envfile-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "local.env");
  await writeFile(file, '# a local database\nexport DB_HOST=localhost\nDB_NAME="orders dev"\n');
  t.deepEqual(readEnvFile(file), { DB_HOST: "localhost", DB_NAME: "orders dev" });
  t.is(readEnvFile(path.join(dir, "none.env")), undefined);
  const problems: string[] = [];
  t.deepEqual(parseEnvFlags(["A=1", "B==2", "nope", "=x"], "--env", problems), { A: "1", B: "=2" });
  t.deepEqual(problems, [
    'Invalid --env "nope": expected KEY=VALUE.',
    'Invalid --env "=x": expected KEY=VALUE.',
  ]);
});
