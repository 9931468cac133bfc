import test from "ava";
import { mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { StackSession } from "../../cli/discovery/stack-export";
import { parseKey } from "../../protocol";
import { noSessionMessage } from "../../stub/relay";
import { readDeployment, type DeployedFunction } from "../deployed/deployment";
import {
  cliEnv,
  functionHost,
  invoke,
  readmePolicy,
  roleIdentity,
  spawnPulumiLive,
} from "../deployed/harness";
import { demoProject, fakePulumi, writeExports } from "../discovery/fake-pulumi";
import { FIXTURE_KEY, FIXTURE_NAMESPACE_ID } from "../discovery/write-export";
import { addIdentity } from "../iot-core/clients";
import { presenceOn } from "../iot-core/presence";
import { IotCoreStandIn } from "../iot-core/stand-in";
import { COUNTING_WORKER } from "./harness";

const SESSION: StackSession = {
  key: parseKey(FIXTURE_KEY),
  organization: "acme",
  namespaceId: FIXTURE_NAMESPACE_ID,
  prefix: `pulumi-live/acme/pulumi-live-demo/dev/${FIXTURE_NAMESPACE_ID}`,
  sessionClientPrefix: "pulumi-live-155a5a236ed0-cli-",
  endpoint: "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com",
  region: "eu-west-1",
  project: "pulumi-live-demo",
  stack: "dev",
  protocolVersion: 2,
};

let dir: string;
let exportFile: string;
let worker: DeployedFunction;
test.before(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-process-")));
  exportFile = (await writeExports(dir)).live;
  worker = (await readDeployment(exportFile)).find((fn) => fn.name === "worker")!;
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

/** An AWS IoT Core stand-in with the developer (the README's policy) registered. */
async function startStandIn(t: { teardown(fn: () => unknown): void }) {
  const standIn = await IotCoreStandIn.start();
  t.teardown(() => standIn.close());
  const developer = await addIdentity(standIn, "arn:aws:iam::123456789012:user/dev", {
    "pulumi-live": await readmePolicy(),
  });
  return { standIn, developer };
}

/** `node bin/pulumi-live.js ARGS` with a fake pulumi and static AWS credentials, pointed at the stand-in. */
async function spawnCli(
  t: { teardown(fn: () => unknown): void },
  { standIn, developer }: Awaited<ReturnType<typeof startStandIn>>,
  args: string[],
) {
  const project = await demoProject({ worker: COUNTING_WORKER });
  t.teardown(project.remove);
  const pulumi = await fakePulumi({ export: exportFile });
  t.teardown(pulumi.remove);
  const endpoint = ["--endpoint", standIn.endpoint, "--ca-file", standIn.caFile];
  const cli = spawnPulumiLive(
    t,
    [...args, "--cwd", project.root, ...endpoint],
    cliEnv(pulumi.env, developer, dir),
  );
  return { ...cli, project };
}

const SERVE = ["serve", "--stack", "dev", "--only", "worker", "--no-watch", "--json"];

test("SIGTERM clears the presence; status sees the session while it serves", async (t) => {
  const broker = await startStandIn(t);
  const cli = await spawnCli(t, broker, SERVE);
  const ready = await cli.next((l) => l.type === "ready");
  t.deepEqual(ready.functions, [{ name: "worker", handler: "examples/handlers/worker.handler" }]);
  t.is(ready.mode, "aws");
  const online = await presenceOn(broker.standIn, SESSION, (p) => p.online && p.pid === cli.child.pid);
  t.deepEqual(online.functions, ["worker"]);

  const status = await spawnCli(t, broker, ["status", "--stack", "dev", "--json"]);
  const [code] = await status.exited;
  t.is(code, 0, status.stderr());
  t.like(status.lines[0], {
    project: "pulumi-live-demo",
    stack: "dev",
    endpoint: SESSION.endpoint,
    region: "eu-west-1",
    session: { state: "online", sessionId: online.sessionId, pid: cli.child.pid, functions: ["worker"] },
  });

  cli.child.kill("SIGTERM");
  t.deepEqual(await cli.exited, [0, null]);
  const offline = await presenceOn(broker.standIn, SESSION, (p) => p.sessionId === online.sessionId);
  t.false(offline.online);
  t.like(cli.lines.at(-1), { type: "summary", invocations: 0 });
});

test("kill -9: the last will clears the presence, and a stub then fails fast", async (t) => {
  const broker = await startStandIn(t);
  const cli = await spawnCli(t, broker, SERVE);
  await cli.next((l) => l.type === "ready");
  const online = await presenceOn(broker.standIn, SESSION, (p) => p.online && p.pid === cli.child.pid);
  const identity = await roleIdentity(broker.standIn, worker);
  const stub = await functionHost(worker, broker.standIn, identity, dir, {
    environment: { COUNT_FILE: path.join(cli.project.root, "n.log") },
  });
  t.teardown(() => stub.close());
  t.deepEqual((await invoke(stub, { id: "x" })).value, { id: "x", live: "true" });

  cli.child.kill("SIGKILL");
  t.deepEqual(await cli.exited, [null, "SIGKILL"]);
  const will = await presenceOn(
    broker.standIn,
    SESSION,
    (p) => p.sessionId === online.sessionId && !p.online,
  );
  t.deepEqual(will.functions, []);
  const failed = await invoke(stub, { id: "y" });
  t.is(failed.functionError, "Unhandled");
  // The will reaches the stand-in's observer and the stub's connection separately: a stub that invokes
  // in between fails as the will arrives (SessionEnded), one after it at once (NoSession). Both are fast:
  // no ack timeout.
  const error = failed.value as { errorType: string; errorMessage: string };
  if (error.errorType === "PulumiLive.NoSession") {
    t.is(error.errorMessage, noSessionMessage("pulumi-live-demo/dev", "worker", undefined));
  } else t.is(error.errorType, "PulumiLive.SessionEnded");
  t.true(failed.durationMs < 2000, `${failed.durationMs} ms`);
  t.deepEqual((await readFile(path.join(cli.project.root, "n.log"), "utf8")).split("\n").filter(Boolean), [
    "x",
  ]);
});

test("a second serve takes over: the older says so and exits, the newer serves", async (t) => {
  const broker = await startStandIn(t);
  const older = await spawnCli(t, broker, SERVE);
  await older.next((l) => l.type === "ready");
  await presenceOn(broker.standIn, SESSION, (p) => p.online && p.pid === older.child.pid);
  const newer = await spawnCli(t, broker, SERVE);
  await newer.next((l) => l.type === "ready");
  const current = await presenceOn(broker.standIn, SESSION, (p) => p.online && p.pid === newer.child.pid);

  const takeover = await older.next((l) => l.type === "takeover");
  t.is(takeover.sessionId, current.sessionId);
  t.deepEqual(await older.exited, [0, null]);
  // The older one left without clearing the newer one's presence.
  const after = await presenceOn(broker.standIn, SESSION, () => true);
  t.like(after, { online: true, sessionId: current.sessionId });

  newer.child.kill("SIGTERM");
  t.deepEqual(await newer.exited, [0, null]);
});

test("serve reports a discovery failure with its fix and exit code 2", async (t) => {
  const broker = await startStandIn(t);
  const cli = await spawnCli(t, broker, ["serve", "--only", "nope"]);
  t.deepEqual(await cli.exited, [2, null]);
  t.is(
    cli.stderr(),
    'pulumi-live: --only names "nope", which the stack does not have.\n' +
      "The live functions of pulumi-live-demo/dev: api, worker, cron.\n",
  );
});
