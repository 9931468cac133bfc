import test from "ava";
import mqtt from "mqtt";
import { encodeMessage, generateKey, Reassembler, stackTopics, type Message } from "../../protocol";
import { startBroker } from "../../cli/local/broker";
import type { InvokeOutcome } from "../../cli/runtime/worker-pool";
import { Session } from "../../cli/session";
import { Changes } from "../helpers/wait";
import { apiRequest, connectTo, quietEvents, testPrefix, READY_BUILD } from "./harness";

test("closing with a request under way: presence goes draining, the request is answered, then offline", async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const key = generateKey();
  const prefix = testPrefix("close");
  const topics = stackTopics(prefix);
  let finishRun: (outcome: InvokeOutcome) => void = () => undefined;
  let started: () => void = () => undefined;
  const running = new Promise<void>((resolve) => (started = resolve));
  const session = new Session({
    key,
    prefix,
    functions: [{ name: "api", functionId: "api", exportName: "handler", ready: async () => READY_BUILD }],
    runner: {
      invoke: () =>
        new Promise<InvokeOutcome>((resolve) => {
          finishRun = resolve;
          started();
        }),
    },
    events: quietEvents(),
    connect: connectTo(broker.url, "close", "test"),
  });
  await session.start();
  t.teardown(() => session.close());

  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  t.teardown(() => client.endAsync());
  const responseTopic = topics.response("api", "env1");
  const reassembler = new Reassembler(key);
  const seen: string[] = [];
  const arrivals = new Changes();
  client.on("message", (topic, payload) => {
    const message: Message | undefined = reassembler.push(topic, payload);
    if (message?.type === "presence")
      seen.push(message.online ? (message.draining ? "draining" : "online") : "offline");
    if (message?.type === "response") seen.push(`response ${String(message.result)}`);
    arrivals.changed();
  });
  const until = (entry: string) =>
    arrivals.until(
      () => seen.includes(entry),
      () => `saw ${seen.join(", ")}`,
    );
  await client.subscribeAsync([topics.presence, responseTopic], { qos: 1 });
  await until("online");

  const frames = encodeMessage(
    key,
    topics.request("api"),
    apiRequest("r1", responseTopic, session.sessionId),
  );
  for (const frame of frames) await client.publishAsync(topics.request("api"), frame, { qos: 1 });
  await running;
  const closed = session.close();
  await until("draining");
  finishRun({ ok: true, result: "done", logs: "", durationMs: 1, coldStart: false });
  await closed;
  await until("offline");
  t.deepEqual(seen, ["online", "draining", "response done", "offline"]);
});
