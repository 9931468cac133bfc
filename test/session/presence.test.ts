import test from "ava";
import mqtt from "mqtt";
import { generateKey, Reassembler, stackTopics, topicPrefix } from "../../protocol";
import { startBroker } from "../../cli/local/broker";
import type { MqttConnection } from "../../cli/mqtt-connection";
import { Session, type SessionOptions } from "../../cli/session";
import { Changes } from "../helpers/wait";
import { connectTo, quietEvents } from "./harness";

/** A started session with no functions on a local broker, closed in teardown. */
async function startSession(
  t: { teardown(fn: () => unknown): void },
  brokerUrl: string,
  key: Buffer,
  prefix: string,
  connect: SessionOptions["connect"] = connectTo(brokerUrl, "presence", "test"),
) {
  const session = new Session({
    key,
    prefix,
    functions: [],
    runner: { invoke: () => Promise.reject(new Error("not used")) },
    events: quietEvents(),
    connect,
  });
  await session.start();
  t.teardown(() => session.close());
  return session;
}

/**
 * A session's connection as the session uses it, which also tells the test what the session published
 * and, once the session's handler has returned, each message it received: whatever the session answers
 * to a message it has published by then (it publishes from inside the handler).
 */
function watchedConnection(brokerUrl: string) {
  const published: string[] = [];
  const handled: { topic: string; payload: Buffer }[] = [];
  const changes = new Changes();
  const connect: SessionOptions["connect"] = async (will, suffix) => {
    const connection = await connectTo(brokerUrl, "presence", "test")(will, suffix);
    const subscribe: MqttConnection["subscribe"] = (filter, onMessage, atMostOnce) =>
      connection.subscribe(
        filter,
        (topic, payload, retain) => {
          onMessage(topic, payload, retain);
          handled.push({ topic, payload });
          changes.changed();
        },
        atMostOnce,
      );
    const publish: MqttConnection["publish"] = (topic, payload, retain) => {
      published.push(topic);
      return connection.publish(topic, payload, retain);
    };
    return new Proxy(connection, {
      get(target, property) {
        if (property === "subscribe") return subscribe;
        if (property === "publish") return publish;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  return { connect, published, handled, changes };
}

test("a session announces itself again when someone else clears the presence", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  const prefix = topicPrefix("presence", "test");
  const session = await startSession(t, broker.url, key, prefix);
  const topic = stackTopics(prefix).presence;
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  t.teardown(() => client.endAsync());
  const reassembler = new Reassembler(key);
  const seen: string[] = [];
  const arrivals = new Changes();
  client.on("message", (_topic, payload) => {
    const message = payload.length ? reassembler.push(topic, payload) : undefined;
    seen.push(message?.type === "presence" ? `${message.sessionId}:${message.online}` : "cleared");
    arrivals.changed();
  });
  const next = (count: number) =>
    arrivals.until(
      () => seen.length >= count,
      () => `saw only ${seen.join(", ")}`,
    );
  await client.subscribeAsync(topic, { qos: 1 });
  await next(1);
  t.deepEqual(seen, [`${session.sessionId}:true`]);
  // An older session's last will, or anyone with publish rights, clears the retained presence...
  await client.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true });
  // ...and the serving session puts its own back at once.
  await next(3);
  t.deepEqual(seen, [`${session.sessionId}:true`, "cleared", `${session.sessionId}:true`]);
});

test("two sessions on one prefix with different keys do not answer each other's presence", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const prefix = topicPrefix("presence", "keys");
  const topic = stackTopics(prefix).presence;
  const keys = [generateKey(), generateKey()];
  const watched = [watchedConnection(broker.url), watchedConnection(broker.url)];
  const sessions = [
    await startSession(t, broker.url, keys[0], prefix, watched[0].connect),
    await startSession(t, broker.url, keys[1], prefix, watched[1].connect),
  ];
  // The second finds the first's retained presence when it subscribes; the first receives the second's
  // announcement. Neither can open the other's: wait until each has handled one such message.
  const sealedWith = (key: Buffer) => (m: { topic: string; payload: Buffer }) =>
    m.topic === topic && m.payload.length > 0 && new Reassembler(key).push(topic, m.payload) !== undefined;
  for (const [i, other] of [1, 0].entries()) {
    await watched[i].changes.until(
      () => watched[i].handled.some(sealedWith(keys[other])),
      () => `session ${i} handled no presence of session ${other}`,
    );
  }
  // Each published its presence once, on start, and did not answer the other's: no ping-pong.
  t.deepEqual(
    watched.map((w) => w.published.filter((published) => published === topic).length),
    [1, 1],
  );
  t.true(sessions.every((session) => session.drops.foreign >= 1));
});
