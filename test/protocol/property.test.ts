import test from "ava";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import {
  MAX_PUBLISH_BYTES,
  Reassembler,
  encodeMessage,
  generateKey,
  type ResponseMessage,
} from "../../protocol";

const key = generateKey();
const topic = "pulumi-live/shop/dev/res/api/0123456789ab";

/** Strings over all of Unicode, with line and paragraph separators and astral characters made likely. */
const unicode = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 2000 }),
  fc.string({
    unit: fc.constantFrom("\u2028", "\u2029", "😀", "𝄞", "\u0000", '"', "\\", "é"),
    maxLength: 2000,
  }),
  fc.string({ unit: "binary", maxLength: 2000 }),
);

/**
 * Repeats a random piece up to a random size up to 6 MB, so payloads are large without slow generation.
 * The size is counted as Lambda counts it, in bytes of JSON: a NUL costs 6 (`\u0000`), a quote 2.
 */
const payload = fc
  .tuple(unicode, fc.integer({ min: 0, max: 6 * 1024 * 1024 }), fc.boolean())
  .map(([piece, size, asBase64]) => {
    if (asBase64) return Buffer.alloc(Math.floor(size / 2), piece || "z").toString("base64");
    const unit = piece || "z";
    const jsonBytes = Buffer.byteLength(JSON.stringify(unit)) - 2;
    return unit.repeat(Math.max(1, Math.floor(size / Math.max(1, jsonBytes))));
  });

test("random payloads up to 6 MB survive split and join, in any order, and no publish exceeds 128 KB", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(payload, fc.boolean(), fc.integer({ min: 0, max: 1000 }), (text, compress, seed) => {
        const message: ResponseMessage = { type: "response", requestId: "r", result: { text } };
        const frames = encodeMessage(key, topic, message, { compress });
        for (const frame of frames) {
          // The whole MQTT PUBLISH packet: fixed header (≤ 5), topic length (2), topic, packet id (2), payload.
          if (5 + 2 + Buffer.byteLength(topic) + 2 + frame.length > MAX_PUBLISH_BYTES) return false;
        }
        // Deliver in a shuffled order, with a chunk delivered twice as QoS 1 may (a single-frame message
        // has no chunk state to catch that: exactly-once is the request id's job, one layer up).
        const order = frames
          .map((_, i) => i)
          .sort((a, b) => ((a * 7919 + seed) % 13) - ((b * 7919 + seed) % 13));
        if (frames.length > 1) order.splice(1, 0, order[0]);
        const reassembler = new Reassembler(key);
        const done = order.map((i) => reassembler.push(topic, frames[i])).filter(Boolean);
        // isDeepStrictEqual, not t.deepEqual: a failing diff of megabytes helps nobody.
        return done.length === 1 && isDeepStrictEqual(done[0], message) && reassembler.heldBytes === 0;
      }),
      { numRuns: 40 },
    ),
  );
});
