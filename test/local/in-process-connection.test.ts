/**
 * The session's in-process connection to the embedded broker (local mode): the broker's rules hold for
 * it as for a client over WebSocket (password, topics, retained messages, last will, QoS 1 acks), and it
 * reconnects and closes as `MqttConnection` does.
 */
import test from "ava";
import type { Duplex } from "node:stream";
import mqtt, { type MqttClient } from "mqtt";
import { generateKey, Reassembler, stackTopics } from "../../protocol";
import { BROKER_USER, startBroker, type LocalBroker } from "../../cli/local/broker";
import { filterMatches, InProcessConnection } from "../../cli/local/in-process-connection";
import type { ConnectionStatus } from "../../cli/mqtt-connection";
import { Session } from "../../cli/session";
import { Changes, EventLog } from "../helpers/wait";
import { quietEvents } from "../session/harness";

type Teardown = { teardown(fn: () => unknown): void };

const PREFIX = "pl/test/inproc";
const PASSWORD = "per-run-secret";

async function broker(t: Teardown): Promise<LocalBroker> {
  const b = await startBroker({ password: PASSWORD, prefix: PREFIX });
  t.teardown(() => b.close());
  return b;
}

/** A client over WebSocket, as the stubs connect. */
async function watcher(t: Teardown, b: LocalBroker): Promise<{ client: MqttClient; log: EventLog<Seen> }> {
  const client = await mqtt.connectAsync(b.url, {
    protocolVersion: 4,
    username: BROKER_USER,
    password: PASSWORD,
    reconnectPeriod: 0,
  });
  t.teardown(() => client.endAsync(true));
  const log = new EventLog<Seen>("message");
  client.on("message", (topic, payload, packet) =>
    log.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  return { client, log };
}

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

async function connect(
  t: Teardown,
  b: LocalBroker,
  extra: Partial<Parameters<typeof InProcessConnection.connect>[0]> = {},
): Promise<InProcessConnection> {
  const c = await InProcessConnection.connect({
    broker: b,
    clientId: `inproc-${Math.random().toString(36).slice(2)}`,
    username: BROKER_USER,
    password: PASSWORD,
    ...extra,
  });
  t.teardown(() => c.close());
  return c;
}

test("topic filters match as MQTT's do", (t) => {
  const table: [string, string, boolean][] = [
    ["a/b", "a/b", true],
    ["a/+", "a/b", true],
    ["a/+", "a/b/c", false],
    ["a/#", "a/b/c", true],
    ["a/#", "a", true],
    ["a/b", "a/c", false],
    ["a/b/c", "a/b", false],
  ];
  t.deepEqual(
    table.map(([f, topic]) => filterMatches(f, topic)),
    table.map(([, , expected]) => expected),
  );
});

test("publishes and receives through the broker, with QoS 1 acks and retained deliveries marked", async (t) => {
  const b = await broker(t);
  const { client, log } = await watcher(t, b);
  await client.subscribeAsync(`${PREFIX}/out`, { qos: 1 });
  const c = await connect(t, b);
  const received = new EventLog<Seen>();
  await c.subscribe(`${PREFIX}/in/+`, (topic, payload, retain) =>
    received.push({ topic, payload: payload.toString(), retain }),
  );
  await c.publish(`${PREFIX}/out`, Buffer.from("to the stub"));
  t.like(await log.next(() => true, { seen: true }), { payload: "to the stub", retain: false });
  await client.publishAsync(`${PREFIX}/in/1`, "to the session", { qos: 1 });
  t.deepEqual(await received.next(() => true, { seen: true }), {
    topic: `${PREFIX}/in/1`,
    payload: "to the session",
    retain: false,
  });
  // A retained message reaches a later subscriber marked as retained (presence is read this way).
  await client.publishAsync(`${PREFIX}/presence`, "here", { qos: 1, retain: true });
  await c.subscribe(`${PREFIX}/presence`, (topic, payload, retain) =>
    received.push({ topic, payload: payload.toString(), retain }),
  );
  t.deepEqual(await received.next((m) => m.topic.endsWith("presence"), { seen: true }), {
    topic: `${PREFIX}/presence`,
    payload: "here",
    retain: true,
  });
});

test("the broker refuses a wrong password, and the error says what happened", async (t) => {
  const b = await broker(t);
  const error = await t.throwsAsync(
    InProcessConnection.connect({
      broker: b,
      clientId: "inproc-wrong",
      username: BROKER_USER,
      password: "no",
    }),
  );
  t.regex(error.message, /refused the session's connection: .*(username or password|Not authorized)/i);
});

test("the broker keeps it to the stack's topics", async (t) => {
  const b = await broker(t);
  const c = await connect(t, b);
  // aedes ends the link of a client whose subscription it refuses, as it does over WebSocket.
  const error = await t.throwsAsync(c.subscribe("elsewhere/#", () => undefined));
  t.regex(error.message, /Could not subscribe to elsewhere\/#/);
});

test("a cut link publishes the last will; the connection comes back and subscribes again", async (t) => {
  const b = await broker(t);
  const { client, log } = await watcher(t, b);
  await client.subscribeAsync(`${PREFIX}/presence`, { qos: 1 });
  const links: Duplex[] = [];
  const statuses: ConnectionStatus[] = [];
  const c = await connect(t, b, {
    will: { topic: `${PREFIX}/presence`, payload: Buffer.from("gone"), retain: true },
    onLink: (link) => links.push(link),
    onStatus: (s) => statuses.push(s),
  });
  const received = new EventLog<Seen>();
  await c.subscribe(`${PREFIX}/in`, (topic, payload, retain) =>
    received.push({ topic, payload: payload.toString(), retain }),
  );
  const resumed = new Changes();
  let resumes = 0;
  c.onResumed(() => {
    resumes++;
    resumed.changed();
  });
  t.is(links.length, 1);
  links[0].destroy();
  t.like(await log.next((m) => m.payload === "gone"), { topic: `${PREFIX}/presence` });
  await resumed.until(
    () => resumes === 1,
    () => `resumed ${resumes} times; statuses ${JSON.stringify(statuses)}`,
  );
  t.is(links.length, 2);
  t.deepEqual(
    statuses.map((s) => s.state),
    ["interrupted", "resumed"],
  );
  // Subscribed again before the listeners were told: a message sent now arrives.
  await client.publishAsync(`${PREFIX}/in`, "after the cut", { qos: 1 });
  t.like(await received.next(() => true), { payload: "after the cut" });
});

test("close disconnects cleanly (no last will), is idempotent, and does not reconnect", async (t) => {
  const b = await broker(t);
  const { client, log } = await watcher(t, b);
  await client.subscribeAsync(`${PREFIX}/presence`, { qos: 1 });
  const links: Duplex[] = [];
  const c = await connect(t, b, {
    will: { topic: `${PREFIX}/presence`, payload: Buffer.from("gone"), retain: false },
    onLink: (link) => links.push(link),
  });
  const first = c.close();
  t.is(c.close(), first);
  await first;
  t.true(links[0].destroyed);
  // A message sent after the close arrives; the will, published before it if at all, did not.
  await client.publishAsync(`${PREFIX}/presence`, "marker", { qos: 1 });
  await log.next((m) => m.payload === "marker", { seen: true });
  t.deepEqual(
    log.events.map((m) => m.payload),
    ["marker"],
  );
  t.is(links.length, 1);
});

test("a closed broker is refused at once instead of waited for", async (t) => {
  const b = await startBroker({ password: PASSWORD, prefix: PREFIX });
  await b.close();
  const error = await t.throwsAsync(
    InProcessConnection.connect({
      broker: b,
      clientId: "inproc-late",
      username: BROKER_USER,
      password: PASSWORD,
    }),
  );
  t.regex(error.message, /closed the link/);
});

test("a session on it holds the retained presence, and its last will clears it when its link dies", async (t) => {
  const b = await broker(t);
  const key = generateKey();
  const topic = stackTopics(PREFIX).presence;
  const links: Duplex[] = [];
  const session = new Session({
    key,
    prefix: PREFIX,
    functions: [],
    runner: { invoke: () => Promise.reject(new Error("not used")) },
    events: quietEvents(),
    // Long enough that the will is seen before the session comes back.
    connect: (will, suffix) =>
      InProcessConnection.connect({
        broker: b,
        clientId: `pl-test-inproc-session-${suffix}`,
        username: BROKER_USER,
        password: PASSWORD,
        will,
        reconnectMs: 2000,
        onLink: (link) => links.push(link),
      }),
  });
  t.teardown(() => session.close());
  await session.start();
  const client = await mqtt.connectAsync(b.url, {
    protocolVersion: 4,
    username: BROKER_USER,
    password: PASSWORD,
    reconnectPeriod: 0,
  });
  t.teardown(() => client.endAsync(true));
  const reassembler = new Reassembler(key);
  const log = new EventLog<string>("presence");
  client.on("message", (_topic, payload, packet) => {
    const message = payload.length > 0 ? reassembler.push(topic, payload) : undefined;
    const what = message?.type === "presence" ? `${message.sessionId}:${message.online}` : "unreadable";
    log.push(`${what}${packet.retain ? " (retained)" : ""}`);
  });
  await client.subscribeAsync(topic, { qos: 1 });
  t.is(await log.next(() => true, { seen: true }), `${session.sessionId}:true (retained)`);
  // The session's link dies without a clean disconnect: the broker publishes its will, offline.
  links[0].destroy();
  t.is(await log.next((e) => e !== log.events[0]), `${session.sessionId}:false`);
});
