import { randomFillSync } from "node:crypto";

/** Bytes drawn from the system's generator at a time: a nonce and an id for about 140 messages. */
const POOL_BYTES = 4096;

let pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let used = POOL_BYTES;

/**
 * `length` cryptographically random bytes (at most {@link POOL_BYTES}), cut from a pool filled by one call
 * to the system's generator, for the nonces and message ids every publish needs: a call per frame was a
 * few percent of a local environment's time (`npm run bench -- --only serve`, its profile). Each byte is
 * handed out once. A process copied with its memory (a VM snapshot such as Lambda SnapStart, which
 * Node.js functions do not have) would have to refill it before sealing.
 */
export function randomPoolBytes(length: number): Buffer {
  if (length > POOL_BYTES) throw new RangeError(`randomPoolBytes gives at most ${POOL_BYTES} bytes`);
  if (used + length > POOL_BYTES) {
    // A new buffer, not a refill: slices handed out earlier stay what they were.
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    used = 0;
  }
  const bytes = pool.subarray(used, used + length);
  used += length;
  return bytes;
}
