/**
 * A handler's AWS SDK runs as the function, never as the developer: with an AWS profile, config and
 * credential files, a region and secrets in the shell that runs `serve`, a real STS client in the handler
 * (against moto_server, a local AWS API) must see exactly the function's role credentials, region and
 * endpoint, and the handler none of the shell's variables but the documented machine basics.
 */
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import { localVariables } from "../../cli/runtime/local-variables";
import { motoInstalled, motoRequired, startMoto, xmlValue, type Moto } from "../helpers/moto";
import { tempProject, type TempProject } from "../runtime/temp-project";
import { startLiveLoop, type LiveLoop } from "./live-loop";

const HANDLER = `
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

export const handler = async () => {
  const client = new STSClient({});
  const identity = await client.send(new GetCallerIdentityCommand({}));
  return {
    arn: identity.Arn,
    region: await client.config.region(),
    accessKeyId: (await client.config.credentials()).accessKeyId,
    env: process.env,
  };
};
`;

const SHELL_SECRETS = {
  PULUMI_CONFIG_PASSPHRASE: "shell passphrase",
  PULUMI_ACCESS_TOKEN: "pul-shell-token",
  GITHUB_TOKEN: "ghp_shell",
  NODE_OPTIONS: "--max-old-space-size=64",
};

if (!motoInstalled && motoRequired) {
  throw new Error("moto_server is not installed, and CI requires it: pip install 'moto[server]'");
}
const title = "the handler's AWS SDK uses the function's role, region and endpoint, not the shell's profile";
if (!motoInstalled)
  test.skip(`${title} (SKIPPED: moto_server is not installed; CI requires it)`, () => undefined);

let moto: Moto | undefined;
let project: TempProject;
let loop: LiveLoop;
let role: { accessKeyId: string; secretAccessKey: string; sessionToken: string };

test.before(async () => {
  if (!motoInstalled) return;
  moto = await startMoto();
  // The developer: an IAM user with a key, in the shell's profile.
  await moto.call("iam", { Action: "CreateUser", UserName: "developer" });
  const key = await moto.call("iam", { Action: "CreateAccessKey", UserName: "developer" });
  // The function: its role's temporary credentials, as Lambda puts them in the function's environment.
  await moto.call("iam", { Action: "CreateRole", RoleName: "fn-role", AssumeRolePolicyDocument: "{}" });
  const assumed = await moto.call("sts", {
    Action: "AssumeRole",
    RoleArn: "arn:aws:iam::123456789012:role/fn-role",
    RoleSessionName: "orders-fn",
  });
  role = {
    accessKeyId: xmlValue(assumed, "AccessKeyId"),
    secretAccessKey: xmlValue(assumed, "SecretAccessKey"),
    sessionToken: xmlValue(assumed, "SessionToken"),
  };

  project = await tempProject({
    "src/whoami.ts": HANDLER,
    ".pulumi-live/local.env": "# local overrides\nDB_HOST=localhost\n",
    "home/.aws/config": [
      "[default]",
      "region = ap-south-1",
      `endpoint_url = ${moto.url}`,
      "[profile dev]",
      "region = ap-south-1",
      `endpoint_url = ${moto.url}`,
      "",
    ].join("\n"),
    "home/.aws/credentials": [
      "[default]",
      `aws_access_key_id = ${xmlValue(key, "AccessKeyId")}`,
      `aws_secret_access_key = ${xmlValue(key, "SecretAccessKey")}`,
      "[dev]",
      `aws_access_key_id = ${xmlValue(key, "AccessKeyId")}`,
      `aws_secret_access_key = ${xmlValue(key, "SecretAccessKey")}`,
      "",
    ].join("\n"),
  });
  await symlink(path.resolve("node_modules"), project.path("node_modules"), "dir");
  await mkdir(project.path("home/.aws/sso/cache"), { recursive: true });
  await writeFile(project.path("Pulumi.yaml"), "name: whoami\nruntime: nodejs\n");

  // The shell that runs serve: a profile as the CLI suggests, its files, a region, and secrets.
  Object.assign(process.env, {
    HOME: project.path("home"),
    AWS_PROFILE: "dev",
    AWS_CONFIG_FILE: project.path("home/.aws/config"),
    AWS_SHARED_CREDENTIALS_FILE: project.path("home/.aws/credentials"),
    AWS_REGION: "ap-south-1",
    AWS_DEFAULT_REGION: "ap-south-1",
    AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9",
    ...SHELL_SECRETS,
  });

  loop = await startLiveLoop({
    root: project.root,
    localVariables: localVariables(project.root, { env: ["FEATURE=local"] }),
    functions: [
      {
        name: "whoami",
        file: project.path("src/whoami.ts"),
        exportName: "handler",
        environment: {
          AWS_ACCESS_KEY_ID: role.accessKeyId,
          AWS_SECRET_ACCESS_KEY: role.secretAccessKey,
          AWS_SESSION_TOKEN: role.sessionToken,
          AWS_REGION: "eu-west-1",
          AWS_DEFAULT_REGION: "eu-west-1",
          AWS_LAMBDA_FUNCTION_NAME: "whoami-fn",
          // The function's own endpoint setting (a deployed function would reach STS itself).
          AWS_ENDPOINT_URL: moto.url,
          TABLE: "orders",
          LANG: "en_US.UTF-8",
          PATH: "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin",
        },
      },
    ],
  });
});
test.after.always(async () => {
  await loop?.close();
  await moto?.close();
  await project?.remove();
});

const run = motoInstalled ? test.serial : undefined;
run?.(title, async (t) => {
  const answer = (await loop.invoke("whoami", {}, "who-1")) as {
    arn: string;
    region: string;
    accessKeyId: string;
    env: Record<string, string>;
  };
  t.is(answer.arn, "arn:aws:sts::123456789012:assumed-role/fn-role/orders-fn");
  t.is(answer.accessKeyId, role.accessKeyId);
  t.is(answer.region, "eu-west-1");

  const env = answer.env;
  for (const name of [...Object.keys(SHELL_SECRETS), "AWS_PROFILE", "AWS_ENDPOINT_URL_STS"]) {
    t.false(name in env, `${name} reached the handler`);
  }
  t.like(env, {
    // The function's own variables, the local markers, and the developer's explicit local variables.
    TABLE: "orders",
    AWS_LAMBDA_FUNCTION_NAME: "whoami-fn",
    PULUMI_LIVE: "true",
    IS_LOCAL: "true",
    DB_HOST: "localhost",
    FEATURE: "local",
    // Machine basics come from this machine, not from the remote one.
    PATH: process.env.PATH,
    HOME: project.path("home"),
  });
});
