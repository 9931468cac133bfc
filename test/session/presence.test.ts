import test from "ava";
import mqtt from "mqtt";
import { generateKey, Reassembler, stackTopics } from "../../protocol";
import { startBroker } from "../../cli/local/broker";
import { Session } from "../../cli/session";
import { Changes } from "../helpers/wait";
import { connectTo, quietEvents, testPrefix } from "./harness";

/** A started session with no functions on a local broker, closed in teardown. */
async function startSession(
  t: { teardown(fn: () => unknown): void },
  brokerUrl: string,
  key: Buffer,
  prefix: string,
) {
  const session = new Session({
    key,
    prefix,
    functions: [],
    runner: { invoke: () => Promise.reject(new Error("not used")) },
    events: quietEvents(),
    connect: connectTo(brokerUrl, "presence", "test"),
  });
  await session.start();
  t.teardown(() => session.close());
  return session;
}

test("a session announces itself again when someone else clears the presence", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  const prefix = testPrefix("presence");
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
