import test from "ava";
import { randomBytes } from "node:crypto";
import {
  CHUNK_HEADER_BYTES,
  Reassembler,
  chunkRoom,
  encodeMessage,
  generateKey,
  open,
  parseChunk,
  seal,
  type ResponseMessage,
} from "../../protocol";

const key = generateKey();
const topic = "pulumi-live/acme/shop/dev/0a1b2c3d4e5f/res/api/e1";

/** A sealed chunk with the header given: what a key holder (or a bug) could send. */
function chunk(fields: { total: number; index: number; count: number; data: Buffer; id?: Buffer }): Buffer {
  const header = Buffer.alloc(CHUNK_HEADER_BYTES);
  header[0] = 3; // response
  (fields.id ?? randomBytes(16)).copy(header, 2);
  header.writeUInt32BE(fields.total, 18);
  header.writeUInt16BE(fields.index, 22);
  header.writeUInt16BE(fields.count, 24);
  return seal(key, topic, Buffer.concat([header, fields.data]));
}

test("chunkRoom: a chunk's header must be one a sender of its total could write", (t) => {
  const data = (n: number) => Buffer.alloc(n);
  const table: [total: number, index: number, count: number, length: number, room: number | undefined][] = [
    [10, 0, 2, 8, 8], // first of two, 8 bytes each but the last
    [10, 1, 2, 2, 8], // the last: 2 bytes left after one of 8
    [10, 0, 2, 4, undefined], // chunks of 4 would make 3 of them, not 2
    [10, 1, 2, 6, undefined], // a last chunk longer than the others
    [100, 0, 65_535, 1, undefined], // 65,535 chunks cannot carry 100 bytes with 1 each
    [65_535, 0, 65_535, 1, 1], // ...but can carry 65,535 bytes: charged as what it is
    [10, 0, 1, 10, undefined], // a single chunk needs no room
    [10, 0, 2, 0, undefined], // empty chunks carry nothing
  ];
  for (const [total, index, count, length, room] of table) {
    t.is(
      chunkRoom({ total, index, count, data: data(length) }),
      room,
      `${total}/${index}/${count}/${length}`,
    );
  }
});

test("a header declaring more chunks than its total needs holds nothing", (t) => {
  const reassembler = new Reassembler(key);
  t.is(
    reassembler.push(topic, chunk({ total: 100, index: 0, count: 65_535, data: Buffer.alloc(1) })),
    undefined,
  );
  t.is(reassembler.incomplete, 0);
  t.is(reassembler.heldBytes, 0);
  t.is(reassembler.drops.malformed, 1);
});

test("every incomplete message is charged its bookkeeping, so tiny frames cannot get around the bound", (t) => {
  const maxPendingBytes = 64 * 1024;
  const reassembler = new Reassembler(key, { maxPendingBytes });
  // 56-byte frames, each the first of a message declaring 65,535 one-byte chunks.
  for (let i = 0; i < 400; i++) {
    reassembler.push(topic, chunk({ total: 65_535, index: 0, count: 65_535, data: Buffer.alloc(1) }));
  }
  t.true(reassembler.heldBytes <= maxPendingBytes, `${reassembler.heldBytes} bytes held`);
  t.true(reassembler.incomplete < 400 / 3, `${reassembler.incomplete} incomplete messages held`);
  t.is(reassembler.drops.evicted, 400 - reassembler.incomplete);
});

test("incomplete messages are capped in number too", (t) => {
  const reassembler = new Reassembler(key, { maxIncomplete: 10 });
  for (let i = 0; i < 50; i++) {
    reassembler.push(topic, chunk({ total: 20, index: 0, count: 2, data: Buffer.alloc(10) }));
  }
  t.is(reassembler.incomplete, 10);
  t.is(reassembler.drops.evicted, 40);
});

test("chunks that disagree with the first one about the message are dropped, the message completes", (t) => {
  const message: ResponseMessage = { type: "response", requestId: "r", result: "x".repeat(300) };
  const frames = encodeMessage(key, topic, message, { limit: 200 + topic.length, compress: false });
  t.true(frames.length > 2);
  const first = parseChunk(open(key, topic, frames[0])!)!;
  const reassembler = new Reassembler(key);
  t.is(reassembler.push(topic, frames[0]), undefined);
  // Same message id, a chunk cut with another room: refused, and the real message still completes.
  const id = Buffer.from(first.id, "hex");
  const forged = chunk({
    id,
    total: first.total,
    index: 1,
    count: first.count,
    data: Buffer.alloc(first.data.length - 1),
  });
  t.is(reassembler.push(topic, forged), undefined);
  t.is(reassembler.drops.malformed, 1);
  for (const frame of frames.slice(1, -1)) reassembler.push(topic, frame);
  t.deepEqual(reassembler.push(topic, frames.at(-1)!), message);
  t.is(reassembler.heldBytes, 0);
});
