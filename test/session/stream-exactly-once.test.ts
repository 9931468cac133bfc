/**
 * Exactly once for a streamed answer: a duplicate delivery of the request, while the stream flows or
 * after it ended, is acknowledged again and runs nothing. The stream is not kept for replays (it may be
 * up to 200 MB): a duplicate gets the ack, and the stub, which is reading the stream, ignores it.
 */
import test from "ava";
import mqtt from "mqtt";
import { startBroker } from "../../cli/local/broker";
import type { InvokeOutcome, InvokeRequest } from "../../cli/runtime/worker-pool";
import { Session } from "../../cli/session";
import { encodeMessage, generateKey, Reassembler, stackTopics, type Message } from "../../protocol";
import { Changes } from "../helpers/wait";
import { READY_BUILD, apiRequest, connectTo, quietEvents, testPrefix } from "./harness";

test("a duplicate of a streamed request, mid-stream and after its end, is acknowledged and runs nothing", async (t) => {
  const broker = await startBroker({});
  t.teardown(() => broker.close());
  const key = generateKey();
  const prefix = testPrefix("stream-once");
  const topics = stackTopics(prefix);
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const runner = {
    invoke: async (request: InvokeRequest): Promise<InvokeOutcome> => {
      runs++;
      const stream = request.stream!;
      stream.start("text/plain");
      await stream.write(Buffer.from("first "));
      await gate;
      await stream.write(Buffer.from("second"));
      return { ok: true, result: undefined, streamed: true, logs: "", durationMs: 1, coldStart: false };
    },
  };
  const session = new Session({
    key,
    prefix,
    functions: [{ name: "api", functionId: "api", exportName: "handler", ready: async () => READY_BUILD }],
    runner,
    events: quietEvents(),
    connect: connectTo(broker.url, "stream-once"),
  });
  await session.start();
  t.teardown(() => session.close());

  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
  t.teardown(() => client.endAsync());
  const responseTopic = topics.response("api", "env1");
  const reassembler = new Reassembler(key);
  const received: Message[] = [];
  const arrived = new Changes();
  client.on("message", (topic, payload) => {
    const message = reassembler.push(topic, payload);
    if (message) received.push(message);
    arrived.changed();
  });
  await client.subscribeAsync(responseTopic, { qos: 1 });
  const request = { ...apiRequest("stream-once-1", responseTopic, session.sessionId), stream: { window: 8 } };
  const publish = async () => {
    for (const frame of encodeMessage(key, topics.request("api"), request)) {
      await client.publishAsync(topics.request("api"), frame, { qos: 1 });
    }
  };
  const count = (type: Message["type"]) => received.filter((m) => m.type === type).length;

  await publish();
  await arrived.until(
    () => count("stream-chunk") === 1,
    () => `the stream did not start: ${JSON.stringify(received.map((m) => m.type))}`,
  );
  await publish(); // mid-stream
  await arrived.until(
    () => count("ack") === 1,
    () => `no ack for the duplicate mid-stream: ${JSON.stringify(received.map((m) => m.type))}`,
  );
  release();
  await arrived.until(
    () => count("stream-end") === 1,
    () => `the stream did not end: ${JSON.stringify(received.map((m) => m.type))}`,
  );
  await publish(); // after the end
  await arrived.until(
    () => count("ack") === 2,
    () => `no ack for the duplicate after the end: ${JSON.stringify(received.map((m) => m.type))}`,
  );
  t.is(runs, 1);
  t.deepEqual(
    received.map((m) => m.type),
    ["stream-start", "stream-chunk", "ack", "stream-chunk", "stream-end", "ack"],
  );
  const body = received.flatMap((m) => (m.type === "stream-chunk" ? [Buffer.from(m.data)] : []));
  t.is(Buffer.concat(body).toString(), "first second");
});
