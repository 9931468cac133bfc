import test from "ava";
import { mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { mqtt } from "aws-iot-device-sdk-v2";
import { startStackServer } from "../../cli/commands/serve-stack";
import { stackStatus } from "../../cli/commands/status";
import { noSessionMessage } from "../../stub/relay";
import { demoProject, fakePulumi, writeExports } from "../discovery/fake-pulumi";
import { RecordingReporter } from "../helpers/recorder";
import { mosquittoAvailable, mosquittoRequired, startMosquitto } from "../helpers/mosquitto";
import { COUNTING_WORKER, lambdaContext, pointAt, presenceWhere, startAedes, stubRelay } from "./harness";

const credentials = {
  get: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token+/=" }),
};

let dir: string;
let exportFile: string;

test.before(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-serve-")));
  exportFile = (await writeExports(dir)).live;
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

/** `serve --stack dev --only worker` in-process, its IoT config pointed at `url` by `adjustConfig` only. */
async function serve(t: { teardown(fn: () => Promise<void>): void }, url: () => string) {
  const project = await demoProject({ worker: COUNTING_WORKER });
  t.teardown(project.remove);
  const pulumi = await fakePulumi({ export: exportFile });
  t.teardown(pulumi.remove);
  const reporter = new RecordingReporter();
  const configs: mqtt.MqttConnectionConfig[] = [];
  const server = await startStackServer({
    stack: "dev",
    cwd: project.root,
    only: ["worker"],
    env: pulumi.env,
    credentials,
    watch: false,
    reporter,
    // A plain broker has no shared subscriptions: one connection.
    connections: 1,
    adjustConfig: (config) => {
      configs.push(config);
      return pointAt(url())(config);
    },
  });
  t.teardown(server.close);
  const countFile = path.join(project.root, "count.log");
  const relay = stubRelay(url(), server.stack.session, "worker", { COUNT_FILE: countFile });
  t.teardown(relay.close);
  const executions = async () =>
    (await readFile(countFile, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return { server, reporter, configs, relay, executions, pulumi, project };
}

test("the AWS IoT path (stack endpoint, client id, last will, SigV4 handshake) serves through aedes", async (t) => {
  const broker = await startAedes();
  t.teardown(broker.close);
  const { server, configs, relay, executions, pulumi, project } = await serve(t, () => broker.url);
  const session = server.stack.session;
  const [config] = configs;
  t.is(config.host_name, "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com");
  t.is(config.port, 443);
  t.truthy(config.tls_ctx);
  t.true(config.use_websocket);
  t.is(config.client_id, `${session.sessionClientPrefix}${server.session.sessionId}`);
  t.is(config.will?.topic, `${session.prefix}/presence`);
  t.true(config.will?.retain);
  t.is(config.keep_alive, 30);

  const handshake = new URL(broker.handshakes[0], "ws://x");
  t.is(handshake.pathname, "/mqtt");
  t.is(handshake.searchParams.get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
  t.regex(
    handshake.searchParams.get("X-Amz-Credential")!,
    /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/iotdevicegateway\/aws4_request$/,
  );
  // As aws-crt's own transform signs (checked with a native static provider): connection and host.
  t.is(handshake.searchParams.get("X-Amz-SignedHeaders"), "connection;host");
  t.regex(handshake.searchParams.get("X-Amz-Signature")!, /^[0-9a-f]{64}$/);
  t.is(handshake.searchParams.get("X-Amz-Security-Token"), "token+/=");

  const presence = await presenceWhere(broker.url, session, (p) => p.online);
  t.deepEqual(
    { ...presence, startedAt: 0, host: "", pid: 0 },
    {
      type: "presence",
      sessionId: server.session.sessionId,
      epoch: server.session.epoch,
      online: true,
      protocol: 2,
      functions: ["worker"],
      startedAt: 0,
      host: "",
      pid: 0,
    },
  );
  t.deepEqual(await relay.handle({ id: "a" }, lambdaContext("req-a")), { id: "a", live: "true" });
  t.deepEqual(await executions(), ["a"]);

  const status = await stackStatus({
    stack: "dev",
    cwd: project.root,
    env: pulumi.env,
    credentials,
    adjustConfig: pointAt(broker.url),
  });
  t.like(status.session, { state: "online", sessionId: server.session.sessionId, functions: ["worker"] });
  t.deepEqual(
    status.functions.map((f) => [f.name, f.live, f.sourceFound]),
    [
      ["api", true, true],
      ["worker", true, true],
      ["cron", true, true],
    ],
  );

  await server.close();
  await presenceWhere(broker.url, session, (p) => !p.online && p.sessionId === server.session.sessionId);
  const error = await t.throwsAsync(relay.handle({ id: "b" }, lambdaContext("req-b")));
  t.is(error?.message, noSessionMessage("pulumi-live-demo/dev", "worker", undefined));
  t.deepEqual(await executions(), ["a"]);
});

test("broker restarted mid-invocation: it completes or fails cleanly, runs once, and serving resumes", async (t) => {
  let broker = await startAedes();
  const port = broker.port;
  t.teardown(() => broker.close());
  const { server, reporter, relay, executions } = await serve(t, () => broker.url);
  const session = server.stack.session;
  await presenceWhere(broker.url, session, (p) => p.online);

  const invoking = reporter.next((e) => e.type === "invoke" && e.requestId === "req-slow");
  const slow = relay.handle({ id: "slow", waitMs: 2500 }, lambdaContext("req-slow", 20_000)).then(
    (result) => ({ ok: true as const, result }),
    (error: Error) => ({ ok: false as const, error }),
  );
  await invoking;
  await broker.close();
  broker = await startAedes(port);
  const resumed = reporter.next(
    (e) => e.type === "status" && e.kind === "connection" && e.state === "resumed",
    20_000,
  );
  const outcome = await slow;
  if (outcome.ok) t.deepEqual(outcome.result, { id: "slow", live: "true" });
  else t.is(typeof outcome.error.message, "string");
  await resumed;

  // After a clean-session reconnect the session subscribed again and announced itself again.
  await presenceWhere(broker.url, session, (p) => p.online && p.sessionId === server.session.sessionId);
  t.deepEqual(await relay.handle({ id: "after" }, lambdaContext("req-after", 20_000)), {
    id: "after",
    live: "true",
  });
  t.deepEqual(await executions(), ["slow", "after"]);
  t.true(
    reporter.events.some(
      (e) =>
        e.type === "status" && e.kind === "connection" && e.target === "AWS IoT" && e.state === "interrupted",
    ),
  );
});

// Skipped where mosquitto is missing, unless CI requires it (then it runs and fails to start the broker).
const mosquitto = mosquittoAvailable() || mosquittoRequired;
(mosquitto ? test : test.skip)(
  mosquitto
    ? "the AWS IoT path serves through mosquitto"
    : "SKIPPED: mosquitto is not installed (apt-get install -y mosquitto)",
  async (t) => {
    const broker = await startMosquitto();
    t.teardown(broker.stop);
    const { server, relay, executions } = await serve(t, () => broker.url);
    await presenceWhere(broker.url, server.stack.session, (p) => p.online);
    t.deepEqual(await relay.handle({ id: "m" }, lambdaContext("req-m")), { id: "m", live: "true" });
    t.deepEqual(await executions(), ["m"]);
  },
);
