/**
 * A request's environment is filtered on receipt: the stub leaves machine and loader variables out, but
 * whoever holds the key can seal a request that carries them anyway. The worker must not get them.
 */
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import mqtt from "mqtt";
import { startBroker } from "../../cli/local/broker";
import { WorkerPool } from "../../cli/runtime/worker-pool";
import { Session } from "../../cli/session";
import {
  encodeMessage,
  environmentHash,
  generateKey,
  Reassembler,
  stackTopics,
  type Message,
} from "../../protocol";
import { Changes } from "../helpers/wait";
import { apiRequest, connectTo, quietEvents, testPrefix } from "./harness";

test("NODE_OPTIONS, LD_PRELOAD, PATH and the stub's settings in a request never reach the worker", async (t) => {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), "pulumi-live-received-")));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "env.js");
  await writeFile(file, "exports.handler = async () => process.env;\n");
  const broker = await startBroker({});
  t.teardown(() => broker.close());
  const pool = new WorkerPool({ concurrency: 1 });
  t.teardown(() => pool.close());
  const key = generateKey();
  const prefix = testPrefix("received");
  const topics = stackTopics(prefix);
  const build = {
    ok: true as const,
    version: 1,
    file,
    format: "cjs" as const,
    entry: file,
    durationMs: 0,
    inputs: [],
  };
  const session = new Session({
    key,
    prefix,
    functions: [{ name: "api", functionId: "api", exportName: "handler", ready: async () => build }],
    runner: pool,
    events: quietEvents(),
    connect: connectTo(broker.url, "received", "test"),
  });
  await session.start();
  t.teardown(() => session.close());

  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  t.teardown(() => client.endAsync());
  const responseTopic = topics.response("api", "env1");
  const reassembler = new Reassembler(key);
  let answer: Message | undefined;
  const arrived = new Changes();
  client.on("message", (topic, payload) => {
    const message = reassembler.push(topic, payload);
    if (message?.type === "response" || message?.type === "error") answer = message;
    arrived.changed();
  });
  await client.subscribeAsync(responseTopic, { qos: 1 });

  const environment = {
    TABLE: "orders",
    NODE_OPTIONS: "--require /tmp/evil.js",
    LD_PRELOAD: "/tmp/evil.so",
    DYLD_INSERT_LIBRARIES: "/tmp/evil.dylib",
    NODE_PATH: "/tmp/evil",
    PATH: "/tmp/evil-bin",
    PULUMI_LIVE_KEY: "c2VjcmV0",
  };
  const request = {
    ...apiRequest("received-1", responseTopic, session.sessionId),
    environment,
    envHash: environmentHash(environment),
  };
  for (const frame of encodeMessage(key, topics.request("api"), request)) {
    await client.publishAsync(topics.request("api"), frame, { qos: 1 });
  }
  await arrived.until(
    () => answer !== undefined,
    () => "no answer to the request",
  );
  if (answer?.type !== "response") return t.fail(JSON.stringify(answer));
  const seen = answer.result as Record<string, string | undefined>;
  t.is(seen.TABLE, "orders");
  for (const name of [
    "NODE_OPTIONS",
    "LD_PRELOAD",
    "DYLD_INSERT_LIBRARIES",
    "NODE_PATH",
    "PULUMI_LIVE_KEY",
  ]) {
    t.false(name in seen, `${name} reached the worker`);
  }
  t.is(seen.PATH, process.env.PATH ?? "");
});
