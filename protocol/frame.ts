import { deflateRawSync, inflateRawSync } from "node:zlib";
import { MAX_PUBLISH_BYTES } from "./limits";
import { type Message, type MessageType, MessageTypeCode } from "./messages";
import { randomPoolBytes } from "./random-pool";
import { SEAL_OVERHEAD, seal } from "./seal";

/**
 * A message is JSON, deflated when that pays, cut into chunks; each chunk carries a header and is sealed.
 * Chunk header: type (1) | flags (1) | message id (16) | total body bytes (4) | index (2) | count (2).
 */
export const CHUNK_HEADER_BYTES = 1 + 1 + 16 + 4 + 2 + 2;
export const FLAG_DEFLATE = 1;
/**
 * The body is not all JSON: a `stream-chunk`'s bytes travel raw after its JSON header (base64 in JSON
 * would cost a third more publishes and IoT Core's metered 5 KB units). Body: JSON length (4) | JSON | data.
 */
export const FLAG_BINARY = 2;
/** What a `stream-chunk`'s body spends besides its data: the JSON length and, at most, the JSON header. */
const STREAM_CHUNK_OVERHEAD = 4 + 192;
/**
 * Below this size compression is not tried: such a message is one publish and one 5 KB metering unit of
 * IoT Core anyway, so deflating it would cost time and save nothing.
 */
const COMPRESS_MIN_BYTES = 5 * 1024;

const TYPE_BY_CODE = new Map<number, MessageType>(
  Object.entries(MessageTypeCode).map(([name, code]) => [code, name as MessageType]),
);

export function typeOfCode(code: number): MessageType | undefined {
  return TYPE_BY_CODE.get(code);
}

/**
 * Largest payload one publish on `topic` may carry so that the whole MQTT PUBLISH packet stays within
 * IoT Core's limit: fixed header (at most 5 bytes), topic length (2), topic, packet id (2).
 */
export function maxPayloadBytes(topic: string, limit = MAX_PUBLISH_BYTES): number {
  return limit - 5 - 2 - Buffer.byteLength(topic) - 2;
}

/**
 * Most bytes one `stream-chunk` on `topic` carries so that it is a single publish: a chunk never waits for
 * another publish to be read.
 */
export function maxStreamChunkBytes(topic: string, limit = MAX_PUBLISH_BYTES): number {
  return maxPayloadBytes(topic, limit) - SEAL_OVERHEAD - CHUNK_HEADER_BYTES - STREAM_CHUNK_OVERHEAD;
}

/** A message's body before compression: JSON, or for a stream chunk its JSON header and its raw bytes. */
function bodyOf(message: Message): { body: Buffer; flags: number } {
  if (message.type !== "stream-chunk") return { body: Buffer.from(JSON.stringify(message)), flags: 0 };
  const { data, ...header } = message;
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return { body: Buffer.concat([length, json, data]), flags: FLAG_BINARY };
}

export interface EncodeOptions {
  /** Publish size limit in bytes (tests use small ones to get many chunks). */
  limit?: number;
  /** Force compression on or off; by default it is used when it makes the body at least 10% smaller. */
  compress?: boolean;
}

/** Encodes a message into the sealed payloads to publish on `topic`, in order. */
export function encodeMessage(
  key: Buffer,
  topic: string,
  message: Message,
  options: EncodeOptions = {},
): Buffer[] {
  const plain = bodyOf(message);
  let body = plain.body;
  let flags = plain.flags;
  if (options.compress ?? body.length >= COMPRESS_MIN_BYTES) {
    const deflated = deflateRawSync(body, { level: 1 });
    if (options.compress || deflated.length < plain.body.length * 0.9) {
      body = deflated;
      flags |= FLAG_DEFLATE;
    }
  }
  const room = maxPayloadBytes(topic, options.limit) - SEAL_OVERHEAD - CHUNK_HEADER_BYTES;
  if (room < 1) throw new Error(`Publish limit too small for topic ${topic}`);
  const count = Math.max(1, Math.ceil(body.length / room));
  if (count > 0xffff) throw new Error(`Message too large to frame: ${body.length} bytes`);
  const id = randomPoolBytes(16);
  const frames: Buffer[] = [];
  for (let index = 0; index < count; index++) {
    const header = Buffer.alloc(CHUNK_HEADER_BYTES);
    header[0] = MessageTypeCode[message.type];
    header[1] = flags;
    id.copy(header, 2);
    header.writeUInt32BE(body.length, 18);
    header.writeUInt16BE(index, 22);
    header.writeUInt16BE(count, 24);
    const chunk = body.subarray(index * room, (index + 1) * room);
    frames.push(seal(key, topic, Buffer.concat([header, chunk])));
  }
  return frames;
}

export interface Chunk {
  type: MessageType;
  flags: number;
  id: string;
  total: number;
  index: number;
  count: number;
  data: Buffer;
}

/** Parses an opened chunk; undefined when its header is not one we write. */
export function parseChunk(plain: Buffer): Chunk | undefined {
  if (plain.length < CHUNK_HEADER_BYTES) return undefined;
  const type = typeOfCode(plain[0]);
  const count = plain.readUInt16BE(24);
  const index = plain.readUInt16BE(22);
  if (!type || count === 0 || index >= count) return undefined;
  return {
    type,
    flags: plain[1],
    id: plain.subarray(2, 18).toString("hex"),
    total: plain.readUInt32BE(18),
    index,
    count,
    data: plain.subarray(CHUNK_HEADER_BYTES),
  };
}

/** Turns a complete body back into a message; `maxBytes` bounds what inflating may produce. */
export function decodeBody(type: MessageType, flags: number, body: Buffer, maxBytes: number): Message {
  const plain = flags & FLAG_DEFLATE ? inflateRawSync(body, { maxOutputLength: maxBytes }) : body;
  const binary = (flags & FLAG_BINARY) !== 0;
  if (binary !== (type === "stream-chunk")) throw new Error("frame flags do not match its type");
  const jsonEnd = binary ? 4 + plain.readUInt32BE(0) : plain.length;
  if (jsonEnd > plain.length) throw new Error("frame header longer than its body");
  const message = JSON.parse(plain.subarray(binary ? 4 : 0, jsonEnd).toString("utf8")) as Message;
  if (!message || typeof message !== "object" || message.type !== type) {
    throw new Error("frame type does not match its message");
  }
  if (message.type === "stream-chunk") message.data = plain.subarray(jsonEnd);
  return message;
}
