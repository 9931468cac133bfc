import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { IOT_URL_OVERRIDE_ENV } from "../../cli/aws/iot-override";
import type { StackSession } from "../../cli/discovery/stack-export";
import { parseKey } from "../../protocol";
import { noSessionMessage } from "../../stub/relay";
import { demoProject, fakePulumi, writeExports } from "../discovery/fake-pulumi";
import { FIXTURE_KEY, FIXTURE_NAMESPACE_ID } from "../discovery/write-export";
import { COUNTING_WORKER, lambdaContext, presenceWhere, startAedes, stubRelay } from "./harness";

const BIN = path.join(__dirname, "../../../bin/pulumi-live.js");
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
test.before(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-process-")));
  exportFile = (await writeExports(dir)).live;
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

type Line = { type: string } & Record<string, any>;

/** `node bin/pulumi-live.js ARGS` with a fake pulumi, static AWS credentials and the broker override. */
async function spawnCli(t: { teardown(fn: () => unknown): void }, brokerUrl: string, args: string[]) {
  const project = await demoProject({ worker: COUNTING_WORKER });
  t.teardown(project.remove);
  const pulumi = await fakePulumi({ export: exportFile });
  t.teardown(pulumi.remove);
  const env: NodeJS.ProcessEnv = {
    ...pulumi.env,
    [IOT_URL_OVERRIDE_ENV]: brokerUrl,
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret",
    AWS_SESSION_TOKEN: "token",
    AWS_CONFIG_FILE: path.join(dir, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
  };
  delete env.AWS_PROFILE;
  const child = spawn(process.execPath, [BIN, ...args, "--cwd", project.root], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"));
  const lines: Line[] = [];
  const waiters: { match: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  createInterface({ input: child.stdout! }).on("line", (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const w of waiters.splice(0))
      if (w.match(line)) w.resolve(line);
      else waiters.push(w);
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, "exit") as Promise<[number | null, string | null]>;
  const next = (match: (l: Line) => boolean) =>
    new Promise<Line>((resolve, reject) => {
      const seen = lines.find(match);
      if (seen) return resolve(seen);
      waiters.push({ match, resolve });
      void exited.then(([code]) => reject(new Error(`exited with ${code} first; stderr:\n${stderr}`)));
    });
  return { child, lines, next, exited, stderr: () => stderr, project };
}

const SERVE = ["serve", "--stack", "dev", "--only", "worker", "--no-watch", "--json"];

test("SIGTERM clears the presence; status sees the session while it serves", async (t) => {
  const broker = await startAedes();
  t.teardown(broker.close);
  const cli = await spawnCli(t, broker.url, SERVE);
  const ready = await cli.next((l) => l.type === "ready");
  t.deepEqual(ready.functions, [{ name: "worker", handler: "examples/handlers/worker.handler" }]);
  t.is(ready.mode, "aws");
  const online = await presenceWhere(broker.url, SESSION, (p) => p.online && p.pid === cli.child.pid);
  t.deepEqual(online.functions, ["worker"]);

  const status = await spawnCli(t, broker.url, ["status", "--stack", "dev", "--json"]);
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
  const offline = await presenceWhere(broker.url, SESSION, (p) => p.sessionId === online.sessionId);
  t.false(offline.online);
  t.like(cli.lines.at(-1), { type: "summary", invocations: 0 });
});

test("kill -9: the last will clears the presence, and a stub then fails fast", async (t) => {
  const broker = await startAedes();
  t.teardown(broker.close);
  const cli = await spawnCli(t, broker.url, SERVE);
  await cli.next((l) => l.type === "ready");
  const online = await presenceWhere(broker.url, SESSION, (p) => p.online && p.pid === cli.child.pid);
  const relay = stubRelay(broker.url, SESSION, "worker", {
    COUNT_FILE: path.join(cli.project.root, "n.log"),
  });
  t.teardown(relay.close);
  t.deepEqual(await relay.handle({ id: "x" }, lambdaContext("req-x")), { id: "x", live: "true" });

  cli.child.kill("SIGKILL");
  t.deepEqual(await cli.exited, [null, "SIGKILL"]);
  const will = await presenceWhere(broker.url, SESSION, (p) => p.sessionId === online.sessionId && !p.online);
  t.deepEqual(will.functions, []);
  const error = await t.throwsAsync(relay.handle({ id: "y" }, lambdaContext("req-y")));
  t.is(error?.message, noSessionMessage("pulumi-live-demo/dev", "worker", undefined));
});

test("a second serve takes over: the older says so and exits, the newer serves", async (t) => {
  const broker = await startAedes();
  t.teardown(broker.close);
  const older = await spawnCli(t, broker.url, SERVE);
  await older.next((l) => l.type === "ready");
  await presenceWhere(broker.url, SESSION, (p) => p.online && p.pid === older.child.pid);
  const newer = await spawnCli(t, broker.url, SERVE);
  await newer.next((l) => l.type === "ready");
  const current = await presenceWhere(broker.url, SESSION, (p) => p.online && p.pid === newer.child.pid);

  const takeover = await older.next((l) => l.type === "takeover");
  t.is(takeover.sessionId, current.sessionId);
  t.deepEqual(await older.exited, [0, null]);
  // The older one left without clearing the newer one's presence.
  const after = await presenceWhere(broker.url, SESSION, () => true);
  t.like(after, { online: true, sessionId: current.sessionId });

  newer.child.kill("SIGTERM");
  t.deepEqual(await newer.exited, [0, null]);
});

test("serve reports a discovery failure with its fix and exit code 2", async (t) => {
  const broker = await startAedes();
  t.teardown(broker.close);
  const cli = await spawnCli(t, broker.url, ["serve", "--only", "nope"]);
  t.deepEqual(await cli.exited, [2, null]);
  t.is(
    cli.stderr(),
    'pulumi-live: --only names "nope", which the stack does not have.\n' +
      "The live functions of pulumi-live-demo/dev: api, worker, cron.\n",
  );
});
