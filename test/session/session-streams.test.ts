import { randomBytes } from "node:crypto";
import test from "ava";
import { Reassembler, type Message, type RequestMessage } from "../../protocol";
import { SessionStreams } from "../../cli/session-streams";

const key = randomBytes(32);
const TOPIC = "pulumi-live/t/res/env1";

function request(window: number): RequestMessage {
  return {
    type: "request",
    requestId: "req-1",
    functionId: "fn",
    envId: "env1",
    responseTopic: TOPIC,
    deadline: Date.now() + 10_000,
    event: {},
    context: {} as RequestMessage["context"],
    sessionId: "s1",
    envHash: "h",
    stream: { window },
  };
}

/** A session's streams whose publishes are read back as messages, each published at once. */
function world() {
  const reader = new Reassembler(key);
  const published: Message[] = [];
  const streams = new SessionStreams({
    key,
    sessionId: "s1",
    compress: false,
    publish: async (topic, frame) => {
      const message = reader.push(topic, frame);
      if (message) published.push(message);
    },
  });
  return { streams, published };
}

const credit = (seq: number) =>
  ({ type: "stream-credit", requestId: "req-1", functionId: "fn", envId: "env1", seq }) as const;

test("a stream whose handler finished before its bytes went out still takes the stub's credits, and ends", async (t) => {
  const { streams, published } = world();
  const sender = streams.open(request(2))!;
  sender.consumer.start("application/octet-stream");
  // The handler writes 400 KB and returns: far more than a window of two messages carries.
  const total = 400 * 1024;
  void sender.consumer.write(Buffer.alloc(total, 7));
  const ended = streams.finish("req-1", {}, Date.now() + 10_000);
  t.deepEqual(
    published.map((m) => m.type),
    ["stream-start", "stream-chunk"],
  );
  // The stub grants more as it writes; every grant must reach the stream, although the handler is done.
  for (let seq = 1; published.at(-1)?.type !== "stream-end" && seq < 20; seq++) {
    t.true(streams.control(credit(seq)), `credit ${seq} reached the stream`);
  }
  t.true(await ended);
  const end = published.at(-1)!;
  t.is(end.type, "stream-end");
  const bytes = published.reduce((sum, m) => sum + (m.type === "stream-chunk" ? m.data.length : 0), 0);
  t.is(bytes, total);
  t.is(streams.size, 0);
  t.false(streams.control(credit(99)), "a credit after the end names no stream");
});

test("a stream the stub stops granting is given up at the request's deadline", async (t) => {
  const { streams, published } = world();
  const sender = streams.open(request(1))!;
  sender.consumer.start("text/plain");
  void sender.consumer.write(Buffer.alloc(300 * 1024, 1));
  const started = Date.now();
  t.false(await streams.finish("req-1", {}, started + 200));
  t.true(Date.now() - started >= 150);
  t.false(published.some((m) => m.type === "stream-end"));
  t.is(streams.size, 0);
});
