import test from "ava";
import {
  CHUNK_HEADER_BYTES,
  FLAG_DEFLATE,
  MAX_PUBLISH_BYTES,
  Reassembler,
  SEAL_OVERHEAD,
  encodeMessage,
  generateKey,
  maxPayloadBytes,
  open,
  parseChunk,
  parseKey,
  seal,
  type Message,
  type ResponseMessage,
} from "../../protocol";

const key = generateKey();
const topic = "pulumi-live/shop/dev/res/api/e1";

function response(result: unknown): ResponseMessage {
  return { type: "response", requestId: "r1", result };
}

test("a small message is one sealed frame that opens to exactly the message", (t) => {
  const frames = encodeMessage(key, topic, { type: "ack", requestId: "r1", sessionId: "s1" });
  t.is(frames.length, 1);
  t.deepEqual(new Reassembler(key).push(topic, frames[0]), { type: "ack", requestId: "r1", sessionId: "s1" });
});

test("sealing authenticates key and topic", (t) => {
  const sealed = seal(key, topic, Buffer.from("hello"));
  t.is(sealed.length, 5 + SEAL_OVERHEAD);
  t.is(open(key, topic, sealed)?.toString(), "hello");
  t.is(open(generateKey(), topic, sealed), undefined);
  t.is(open(key, topic + "x", sealed), undefined);
  const tampered = Buffer.from(sealed);
  tampered[20] ^= 1;
  t.is(open(key, topic, tampered), undefined);
  t.is(open(key, topic, Buffer.alloc(3)), undefined);
});

test("parseKey accepts 32 bytes of base64 and explains anything else", (t) => {
  t.is(parseKey(key.toString("base64")).length, 32);
  t.is(
    t.throws(() => parseKey("abcd"))?.message,
    "The session key must be 32 bytes of base64 (got 3 bytes).",
  );
});

test("large messages are split so that no publish exceeds the limit, counting the MQTT header", (t) => {
  const payload =
    "x".repeat(300_000) + Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251)).toString("base64");
  const frames = encodeMessage(key, topic, response(payload), { compress: false });
  const limit = maxPayloadBytes(topic);
  t.is(limit, MAX_PUBLISH_BYTES - 9 - Buffer.byteLength(topic));
  t.true(frames.length > 1);
  for (const frame of frames) t.true(frame.length <= limit);
  // Every frame but the last is full: the split wastes no publishes.
  for (const frame of frames.slice(0, -1)) t.is(frame.length, limit);
  const reassembler = new Reassembler(key);
  let done: Message | undefined;
  for (const frame of frames.reverse()) done = reassembler.push(topic, frame) ?? done;
  t.deepEqual(done, response(payload));
  t.is(reassembler.heldBytes, 0);
});

test("compression is used when it pays and not for small messages", (t) => {
  const flagsOf = (frame: Buffer) => parseChunk(open(key, topic, frame)!)!.flags;
  const compressible = encodeMessage(key, topic, response("a".repeat(500_000)));
  t.is(compressible.length, 1);
  t.is(flagsOf(compressible[0]), FLAG_DEFLATE);
  t.is(flagsOf(encodeMessage(key, topic, response("a".repeat(500)))[0]), 0);
  const raw = Buffer.byteLength(JSON.stringify(response("b".repeat(500_000))));
  const room = maxPayloadBytes(topic) - SEAL_OVERHEAD - CHUNK_HEADER_BYTES;
  const plain = encodeMessage(key, topic, response("b".repeat(500_000)), { compress: false });
  t.is(plain.length, Math.ceil(raw / room));
  t.is(flagsOf(plain[0]), 0);
});

test("garbage, foreign and duplicate frames are dropped and counted", (t) => {
  const reassembler = new Reassembler(key);
  t.is(reassembler.push(topic, Buffer.from("not a frame")), undefined);
  t.is(reassembler.push(topic, encodeMessage(generateKey(), topic, response(1))[0]), undefined);
  t.is(reassembler.push(topic, seal(key, topic, Buffer.from("short"))), undefined);
  const badJson = Buffer.alloc(CHUNK_HEADER_BYTES + 3);
  badJson[0] = 3;
  badJson.writeUInt32BE(3, 18);
  badJson.writeUInt16BE(1, 24);
  badJson.write("{x}", CHUNK_HEADER_BYTES);
  t.is(reassembler.push(topic, seal(key, topic, badJson)), undefined);
  const frames = encodeMessage(key, topic, response("y".repeat(400_000)), { compress: false });
  t.is(reassembler.push(topic, frames[0]), undefined);
  t.is(reassembler.push(topic, frames[0]), undefined);
  t.deepEqual(reassembler.drops, {
    unsealed: 2,
    malformed: 2,
    oversized: 0,
    expired: 0,
    evicted: 0,
    duplicate: 1,
  });
});

test("incomplete messages are bounded in memory and in age", (t) => {
  let now = 0;
  const reassembler = new Reassembler(key, { maxPendingBytes: 300_000, maxAgeMs: 1000, now: () => now });
  const a = encodeMessage(key, topic, response("a".repeat(600_000)), { compress: false });
  const b = encodeMessage(key, topic, response("b".repeat(600_000)), { compress: false });
  reassembler.push(topic, a[0]);
  reassembler.push(topic, a[1]);
  t.is(reassembler.incomplete, 1);
  reassembler.push(topic, b[0]);
  reassembler.push(topic, b[1]);
  // Over 300 KB held: the oldest incomplete message (a) is evicted.
  t.is(reassembler.drops.evicted, 1);
  t.is(reassembler.incomplete, 1);
  t.true(reassembler.heldBytes <= 300_000);
  now = 5000;
  t.is(reassembler.push(topic, a[2]), undefined);
  t.is(reassembler.drops.expired, 1);
  const oversized = new Reassembler(key, { maxMessageBytes: 1000 });
  t.is(
    oversized.push(topic, encodeMessage(key, topic, response("c".repeat(5000)), { compress: false })[0]),
    undefined,
  );
  t.is(oversized.drops.oversized, 1);
});
