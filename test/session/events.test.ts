import test from "ava";
import mqtt from "mqtt";
import { encodeMessage, generateKey, stackTopics, type RequestMessage } from "../../protocol";
import type { DropEvent, InvokeEvent } from "../../cli/events";
import { startBroker } from "../../cli/local/broker";
import { Session } from "../../cli/session";
import { Changes } from "../helpers/wait";
import { apiRequest, connectTo, quietEvents, testPrefix, READY_BUILD } from "./harness";

// Before, `bytes` was the JSON's string length (UTF-16 units), and a drop put the function id in a
// field named `topic`.
test("invoke events count the event's bytes; drop events name reason, function and request in their own fields", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  const prefix = testPrefix("events");
  const topics = stackTopics(prefix);
  const invokes: InvokeEvent[] = [];
  const drops: DropEvent[] = [];
  const changes = new Changes();
  const session = new Session({
    key,
    prefix,
    functions: [{ name: "api", functionId: "api", exportName: "handler", ready: async () => READY_BUILD }],
    runner: { invoke: async () => ({ ok: true, result: "ok", logs: "", durationMs: 1, coldStart: false }) },
    events: quietEvents({
      invoke: (e) => void (invokes.push(e), changes.changed()),
      drop: (e) => void (drops.push(e), changes.changed()),
    }),
    connect: connectTo(broker.url, "events", "test"),
  });
  await session.start();
  t.teardown(() => session.close());
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  t.teardown(() => client.endAsync());
  const responseTopic = topics.response("api", "env1");
  const send = async (topic: string, request: RequestMessage) => {
    for (const frame of encodeMessage(key, topic, request))
      await client.publishAsync(topic, frame, { qos: 1 });
  };

  const event = { name: "Zoë", note: "🚀 naïve café" };
  await send(topics.request("api"), { ...apiRequest("r1", responseTopic, session.sessionId), event });
  await send(topics.request("nope"), {
    ...apiRequest("r2", responseTopic, session.sessionId),
    functionId: "nope",
  });
  await send(topics.request("api"), {
    ...apiRequest("r3", responseTopic, session.sessionId),
    deadline: Date.now() - 1,
  });
  await changes.until(
    () => invokes.length >= 1 && drops.length >= 2,
    () => `invokes ${JSON.stringify(invokes)}, drops ${JSON.stringify(drops)}`,
  );

  t.is(invokes[0].bytes, Buffer.byteLength(JSON.stringify(event)));
  t.not(invokes[0].bytes, JSON.stringify(event).length);
  t.deepEqual(drops, [
    {
      reason: "unknown-function",
      detail: 'no served function "nope"',
      functionId: "nope",
      function: undefined,
      requestId: "r2",
    },
    {
      reason: "expired",
      detail: "request r3 arrived after its deadline",
      functionId: "api",
      function: "api",
      requestId: "r3",
    },
  ]);
});
