import test from "ava";
import mqtt from "mqtt";
import {
  Reassembler,
  clientIdPrefix,
  encodeMessage,
  generateKey,
  stackTopics,
  type Message,
} from "../../protocol";
import { startBroker } from "../../cli/local/broker";
import { Session } from "../../cli/session";
import type { SessionEvents } from "../../cli/session";
import { createRelay } from "../../stub/relay";
import { lambdaContext } from "../stub/harness";
import { Changes } from "../helpers/wait";
import { apiRequest, connectTo, quietEvents, testNamespace, testPrefix, READY_BUILD } from "./harness";

/** A started session serving `api`, whose handler echoes the request id and counts its runs. */
async function serving(
  t: { teardown(fn: () => unknown): void },
  brokerUrl: string,
  key: Buffer,
  project: string,
  options: { dedupeMs?: number; events?: Partial<SessionEvents> } = {},
) {
  const runs: string[] = [];
  const session = new Session({
    key,
    prefix: testPrefix(project),
    functions: [{ name: "api", functionId: "api", exportName: "handler", ready: async () => READY_BUILD }],
    runner: {
      invoke: async (request) => {
        runs.push(request.context.awsRequestId);
        return { ok: true, result: request.context.awsRequestId, logs: "", durationMs: 1, coldStart: false };
      },
    },
    events: quietEvents(options.events),
    connect: connectTo(brokerUrl, project),
    dedupeMs: options.dedupeMs,
  });
  await session.start();
  t.teardown(() => session.close());
  return { session, runs };
}

/** A plain client that reads every message on the topics given, opened with the key. */
async function watch(t: { teardown(fn: () => unknown): void }, url: string, key: Buffer, topics: string[]) {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4 });
  t.teardown(() => client.endAsync());
  const reassembler = new Reassembler(key);
  const seen: { topic: string; message?: Message; raw: Buffer }[] = [];
  const arrivals = new Changes();
  client.on("message", (topic, payload) => {
    seen.push({
      topic,
      raw: payload,
      message: payload.length ? reassembler.push(topic, payload) : undefined,
    });
    arrivals.changed();
  });
  await client.subscribeAsync(topics, { qos: 1 });
  const until = (done: () => boolean) => arrivals.until(done, () => `saw ${seen.length} messages`);
  return { client, seen, until };
}

const onlineOf = (m: Message | undefined, sessionId: string) =>
  m?.type === "presence" && m.online && m.sessionId === sessionId;

test("a capture replayed after its answer was forgotten, before its deadline, does not run again", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  // Answers are kept for no time at all here: what stops the replay must be the request id itself.
  const { session, runs } = await serving(t, broker.url, key, "replay", { dedupeMs: 0 });
  const topics = session.topics;
  const responseTopic = topics.response("api", "env1");
  const watcher = await watch(t, broker.url, key, [responseTopic]);
  // A function with a long timeout (liveTimeout: 900 while debugging): the deadline is far away.
  const request = {
    ...apiRequest("replayed", responseTopic, session.sessionId),
    deadline: Date.now() + 900_000,
  };
  const frames = encodeMessage(key, topics.request("api"), request);
  const publish = async () => {
    for (const frame of frames) await watcher.client.publishAsync(topics.request("api"), frame, { qos: 1 });
  };
  await publish();
  await watcher.until(() => watcher.seen.some((s) => s.message?.type === "response"));
  // The time it takes an exactly-once table that forgets answers to forget this one too (it prunes at
  // most once a second): the point of the test is time passing, not an event.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await publish();
  await watcher.until(() => watcher.seen.length >= 2);
  t.deepEqual(runs, ["replayed"]);
  t.deepEqual(
    watcher.seen.map((s) => s.message?.type),
    ["response", "ack"],
  );
  t.is(session.drops.duplicate, 1);
});

test("Lambda's retry of an invocation (same request id, a new deadline) runs again", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  const { session, runs } = await serving(t, broker.url, key, "retry");
  const responseTopic = session.topics.response("api", "env1");
  const watcher = await watch(t, broker.url, key, [responseTopic]);
  for (const deadline of [Date.now() + 60_000, Date.now() + 120_000]) {
    const request = { ...apiRequest("retried", responseTopic, session.sessionId), deadline };
    for (const frame of encodeMessage(key, session.topics.request("api"), request))
      await watcher.client.publishAsync(session.topics.request("api"), frame, { qos: 1 });
  }
  await watcher.until(() => watcher.seen.filter((s) => s.message?.type === "response").length >= 2);
  t.deepEqual(runs, ["retried", "retried"]);
});

test("an earlier run's presence replayed does not take the stack from the serving session", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  const presenceTopic = stackTopics(testPrefix("ghost")).presence;
  const watcher = await watch(t, broker.url, key, [presenceTopic]);
  // An earlier run of serve, captured while online, long gone (its presence cleared since).
  const earlier = await serving(t, broker.url, key, "ghost");
  await watcher.until(() => watcher.seen.some((s) => onlineOf(s.message, earlier.session.sessionId)));
  const capture = watcher.seen.find((s) => onlineOf(s.message, earlier.session.sessionId))!.raw;
  await earlier.session.close();
  await watcher.client.publishAsync(presenceTopic, Buffer.alloc(0), { qos: 1, retain: true });

  const takeovers: string[] = [];
  const { session } = await serving(t, broker.url, key, "ghost", {
    events: { takeover: (e) => takeovers.push(e.sessionId) },
  });
  const count = watcher.seen.length;
  await watcher.client.publishAsync(presenceTopic, capture, { qos: 1, retain: true });
  // The serving session puts its own presence back over the replay...
  await watcher.until(() =>
    watcher.seen.slice(count + 1).some((s) => onlineOf(s.message, session.sessionId)),
  );
  t.deepEqual(takeovers, []);
  t.is(session.phase, "serving");
  // ...and it is what a newcomer finds retained.
  const newcomer = await watch(t, broker.url, key, [presenceTopic]);
  await newcomer.until(() => newcomer.seen.length > 0);
  t.true(onlineOf(newcomer.seen[0].message, session.sessionId));
});

test("garbage retained on the presence topic is repaired, and a cold stub reaches the session", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  const { session, runs } = await serving(t, broker.url, key, "garbage");
  const presenceTopic = session.topics.presence;
  const watcher = await watch(t, broker.url, key, [presenceTopic]);
  await watcher.until(() => watcher.seen.length > 0);
  // Anyone who may publish on the topic, without the key.
  await watcher.client.publishAsync(presenceTopic, Buffer.from("not a presence"), { qos: 1, retain: true });
  await watcher.until(() => watcher.seen.some((s, i) => i > 1 && onlineOf(s.message, session.sessionId)));
  const relay = createRelay(
    {
      prefix: session.topics.prefix,
      functionId: "api",
      key,
      clientPrefix: clientIdPrefix(testNamespace("garbage"), "stub"),
      stack: "garbage/test",
      broker: { kind: "url", url: broker.url },
      ackTimeoutMs: 2000,
    },
    { env: {}, log: () => undefined },
  );
  t.teardown(() => relay.close());
  t.is(await relay.handle({}, lambdaContext("cold-after-garbage")), "cold-after-garbage");
  t.deepEqual(runs, ["cold-after-garbage"]);
  t.true(session.drops.repaired >= 1);
});

test("a session does not repair more often than its repair interval, whatever is published", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  const { session } = await serving(t, broker.url, key, "flood");
  const presenceTopic = session.topics.presence;
  const watcher = await watch(t, broker.url, key, [presenceTopic]);
  await watcher.until(() => watcher.seen.length > 0);
  const started = Date.now();
  for (let i = 0; i < 50; i++)
    await watcher.client.publishAsync(presenceTopic, Buffer.from(`garbage ${i}`), { qos: 1, retain: true });
  await watcher.until(() => watcher.seen.slice(1).some((s) => onlineOf(s.message, session.sessionId)));
  const elapsed = Date.now() - started;
  const repairs = watcher.seen.slice(1).filter((s) => onlineOf(s.message, session.sessionId)).length;
  // One repair per started second at most (the first may come at once).
  t.true(repairs <= 1 + Math.floor(elapsed / 1000), `${repairs} repairs in ${elapsed} ms`);
});
