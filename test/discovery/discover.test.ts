import test from "ava";
import { mkdtemp, readFile, realpath, rm, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { discoverStack } from "../../cli/discovery/discover";
import { FUNCTION_TYPE } from "../../core/names";
import { stackExportArgs } from "../../cli/discovery/pulumi-cli";
import { decodeSecrets } from "../../cli/discovery/stack-export";
import { demoProject, fakePulumi, writeExports, PULUMI_FAILURES, type FakeBehaviour } from "./fake-pulumi";
import { FIXTURE_KEY, FIXTURE_NAMESPACE_ID } from "./write-export";

let fixtures: { live: string; off: string };
let dir: string;

test.before(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-exports-")));
  fixtures = await writeExports(dir);
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

/** Discovery in a fresh demo project with a fake pulumi behaving as told. */
async function discoverWith(
  t: { teardown(fn: () => Promise<void>): void },
  behaviour: FakeBehaviour,
  options: { stack?: string; only?: string[]; handlers?: Record<string, string>; remove?: string } = {},
) {
  const project = await demoProject(options.handlers);
  t.teardown(project.remove);
  if (options.remove) await unlink(path.join(project.root, options.remove));
  const pulumi = await fakePulumi(behaviour);
  t.teardown(pulumi.remove);
  const run = () =>
    discoverStack({ stack: options.stack, cwd: project.root, only: options.only, env: pulumi.env });
  return { project, pulumi, run };
}

test("reads the session and every live function from the stack export", async (t) => {
  const { project, pulumi, run } = await discoverWith(t, { export: fixtures.live }, { stack: "dev" });
  const stack = await run();
  t.deepEqual(await pulumi.calls(), [
    ["stack", "export", "--show-secrets", "--non-interactive", "--cwd", project.root, "--stack", "dev"],
  ]);
  t.is(stack.root, project.root);
  t.is(`${stack.project}/${stack.stack}`, "pulumi-live-demo/dev");
  t.deepEqual(
    { ...stack.session, key: stack.session.key.toString("base64") },
    {
      key: FIXTURE_KEY,
      organization: "acme",
      namespaceId: FIXTURE_NAMESPACE_ID,
      prefix: `pulumi-live/acme/pulumi-live-demo/dev/${FIXTURE_NAMESPACE_ID}`,
      sessionClientPrefix: "pulumi-live-155a5a236ed0-cli-",
      endpoint: "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com",
      region: "eu-west-1",
      project: "pulumi-live-demo",
      stack: "dev",
      protocolVersion: 2,
    },
  );
  t.deepEqual(
    stack.functions.map((f) => [f.name, f.functionId, f.handler, f.live, f.file, f.exportName]),
    ["api", "worker", "cron"].map((name) => [
      name,
      name,
      `examples/handlers/${name}.handler`,
      true,
      path.join(project.root, "examples/handlers", `${name}.ts`),
      "handler",
    ]),
  );
  t.regex(stack.functions[0].functionName, /^api-fn-[0-9a-f]{7}$/);
});

test("without --stack, pulumi reads the selected stack", (t) => {
  t.deepEqual(stackExportArgs({ cwd: "/p" }), [
    "stack",
    "export",
    "--show-secrets",
    "--non-interactive",
    "--cwd",
    "/p",
  ]);
});

test("--only serves a subset, by name", async (t) => {
  const { run } = await discoverWith(t, { export: fixtures.live }, { only: ["cron", "api"] });
  t.deepEqual(
    (await run()).functions.map((f) => f.name),
    ["cron", "api"],
  );
});

test("--only with a name the stack does not have lists the live ones", async (t) => {
  const { run } = await discoverWith(t, { export: fixtures.live }, { only: ["api", "nope"] });
  const error = await t.throwsAsync(run);
  t.is(
    error?.message,
    '--only names "nope", which the stack does not have.\n' +
      "The live functions of pulumi-live-demo/dev: api, worker, cron.",
  );
});

test("pulumi not installed", async (t) => {
  const project = await demoProject();
  t.teardown(project.remove);
  const empty = await mkdtemp(path.join(os.tmpdir(), "pulumi-live-empty-path-"));
  t.teardown(() => rm(empty, { recursive: true, force: true }));
  const error = await t.throwsAsync(discoverStack({ cwd: project.root, env: { PATH: empty } }));
  t.is(error?.name, "UserError");
  t.is(
    error?.message,
    "The pulumi CLI is not installed (no `pulumi` on PATH); pulumi-live reads your stack through it. " +
      "Install it: curl -fsSL https://get.pulumi.com | sh  (or brew install pulumi/tap/pulumi), then open a new shell.",
  );
});

test("pulumi not logged in", async (t) => {
  const { run } = await discoverWith(t, { stderr: PULUMI_FAILURES.notLoggedIn, code: 255 });
  const error = await t.throwsAsync(run);
  t.is(
    error?.message,
    "The pulumi CLI is not logged in to a backend. Log in with: pulumi login  " +
      "(or pulumi login --local, or set PULUMI_ACCESS_TOKEN), then run this again.",
  );
});

test("no such stack", async (t) => {
  const { project, run } = await discoverWith(
    t,
    { stderr: PULUMI_FAILURES.noSuchStack, code: 255 },
    { stack: "staging" },
  );
  const error = await t.throwsAsync(run);
  t.is(
    error?.message,
    `Pulumi has no stack named "staging" in this project (${project.root}). ` +
      `List the stacks with: pulumi stack ls --cwd ${project.root}  then pass one with --stack NAME.`,
  );
});

test("no stack selected", async (t) => {
  const { project, run } = await discoverWith(t, { stderr: PULUMI_FAILURES.noStackSelected, code: 255 });
  const error = await t.throwsAsync(run);
  t.is(
    error?.message,
    `No Pulumi stack is selected in ${project.root}. Select one with: pulumi stack select NAME  (or pass --stack NAME).`,
  );
});

test("passphrase needed", async (t) => {
  const { run } = await discoverWith(t, { stderr: PULUMI_FAILURES.passphrase, code: 255 });
  const error = await t.throwsAsync(run);
  t.is(
    error?.message,
    "The stack's secrets are encrypted with a passphrase, and pulumi-live needs them (the session key is a " +
      "secret). Set it for this shell: export PULUMI_CONFIG_PASSPHRASE='...'  " +
      "(or PULUMI_CONFIG_PASSPHRASE_FILE=path), then run this again.",
  );
});

test("a stack deployed with live off has no live functions", async (t) => {
  const { run } = await discoverWith(t, { export: fixtures.off }, { stack: "dev" });
  const error = await t.throwsAsync(run);
  t.is(
    error?.message,
    "The stack pulumi-live-demo/dev has no live functions: it was deployed with live mode off, so its " +
      "functions run their deployed code. Deploy it in live mode: " +
      "pulumi config set live true --stack dev && pulumi up --stack dev",
  );
});

test("a handler path from the stack that no longer exists locally", async (t) => {
  const { project, run } = await discoverWith(
    t,
    { export: fixtures.live },
    { remove: "examples/handlers/cron.ts" },
  );
  const error = await t.throwsAsync(run);
  t.is(
    error?.message,
    `LiveFunction "cron" runs the handler examples/handlers/cron.handler, and no file ` +
      `examples/handlers/cron{.ts,.mts,.cts,.js,.mjs,.cjs} exists under ${project.root}. Restore the file; ` +
      `or, if it moved, point the function's handler at its new path and deploy: pulumi up. To serve the ` +
      `other functions meanwhile, leave this one out: --only NAME,...`,
  );
});

test("an export without --show-secrets (ciphertext) is refused with what to do", (t) => {
  const error = t.throws(() =>
    decodeSecrets({
      key: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "x" },
    }),
  );
  t.is(
    error?.message,
    "The stack export holds encrypted secrets; pulumi-live needs them in plaintext. Update the pulumi CLI " +
      "(pulumi stack export --show-secrets needs v2.10 or later): https://www.pulumi.com/docs/install/",
  );
});

test("a Python function's handler is its .py file, even beside a .ts of the same name", async (t) => {
  const exported = JSON.parse(await readFile(fixtures.live, "utf8"));
  const cron = exported.deployment.resources.find(
    (r: { type: string; urn: string }) => r.type === FUNCTION_TYPE && r.urn.endsWith("::cron"),
  );
  cron.outputs.runtime = "python3.12";
  const file = path.join(dir, "export-python.json");
  await writeFile(file, JSON.stringify(exported));
  const { project, run } = await discoverWith(t, { export: file });
  await writeFile(
    path.join(project.root, "examples/handlers/cron.py"),
    "def handler(event, context):\n    return 1\n",
  );
  const stack = await run();
  t.like(
    stack.functions.find((f) => f.name === "cron"),
    {
      runtime: "python3.12",
      file: path.join(project.root, "examples/handlers/cron.py"),
      exportName: "handler",
    },
  );
  await unlink(path.join(project.root, "examples/handlers/cron.py"));
  const error = await t.throwsAsync(run);
  t.regex(error?.message ?? "", /and no file examples\/handlers\/cron\.py exists under /);
});
