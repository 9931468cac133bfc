import { randomBytes } from "node:crypto";
import test from "ava";
import {
  FLAG_BINARY,
  FLAG_DEFLATE,
  Reassembler,
  encodeMessage,
  generateKey,
  maxPayloadBytes,
  maxStreamChunkBytes,
  open,
  parseChunk,
  seal,
  type Message,
  type StreamChunkMessage,
} from "../../protocol";

const key = generateKey();
const topic = "pulumi-live/o/p/s/0a1b2c3d4e5f/res/api/0123456789ab";
const requestId = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";

function chunk(data: Buffer, seq = 1): StreamChunkMessage {
  return { type: "stream-chunk", requestId, seq, data };
}

function flagsOf(frame: Buffer): number {
  return parseChunk(open(key, topic, frame)!)!.flags;
}

test("a stream chunk's bytes travel raw: one publish at the largest size, and back byte for byte", (t) => {
  const data = randomBytes(maxStreamChunkBytes(topic));
  const frames = encodeMessage(key, topic, chunk(data), { compress: false });
  t.is(frames.length, 1);
  t.true(frames[0].length <= maxPayloadBytes(topic));
  t.is(flagsOf(frames[0]), FLAG_BINARY);
  const message = new Reassembler(key).push(topic, frames[0]);
  t.deepEqual(message, chunk(data));
});

test("a compressible chunk is deflated; one larger than a publish still arrives whole", (t) => {
  const text = Buffer.from("data: token\n\n".repeat(20_000));
  const compressed = encodeMessage(key, topic, chunk(text));
  t.is(compressed.length, 1);
  t.is(flagsOf(compressed[0]), FLAG_BINARY | FLAG_DEFLATE);
  t.deepEqual(new Reassembler(key).push(topic, compressed[0]), chunk(text));

  const big = randomBytes(300_000);
  const frames = encodeMessage(key, topic, chunk(big, 7), { compress: false });
  t.true(frames.length > 1);
  const reassembler = new Reassembler(key);
  let done: Message | undefined;
  for (const frame of frames) done = reassembler.push(topic, frame) ?? done;
  t.deepEqual(done, chunk(big, 7));
});

test("an empty chunk and the other stream messages are plain JSON frames", (t) => {
  const reassembler = new Reassembler(key);
  t.deepEqual(
    reassembler.push(topic, encodeMessage(key, topic, chunk(Buffer.alloc(0)))[0]),
    chunk(Buffer.alloc(0)),
  );
  const end: Message = {
    type: "stream-end",
    requestId,
    seq: 9,
    bytes: 12,
    error: { errorType: "TypeError", errorMessage: "x", trace: ["TypeError: x"] },
  };
  const frame = encodeMessage(key, topic, end)[0];
  t.is(flagsOf(frame), 0);
  t.deepEqual(reassembler.push(topic, frame), end);
});

test("a frame whose binary flag does not match its type is dropped as malformed", (t) => {
  const frame = encodeMessage(key, topic, { type: "ack", requestId, sessionId: "s" })[0];
  const plain = open(key, topic, frame)!;
  plain[1] |= FLAG_BINARY;
  const reassembler = new Reassembler(key);
  t.is(reassembler.push(topic, seal(key, topic, plain)), undefined);
  t.is(reassembler.drops.malformed, 1);
});
