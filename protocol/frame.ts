import { deflateRawSync, inflateRawSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { MAX_PUBLISH_BYTES } from "./limits";
import { type Message, type MessageType, MessageTypeCode } from "./messages";
import { SEAL_OVERHEAD, seal } from "./seal";

/**
 * A message is JSON, deflated when that pays, cut into chunks; each chunk carries a header and is sealed.
 * Chunk header: type (1) | flags (1) | message id (16) | total body bytes (4) | index (2) | count (2).
 */
export const CHUNK_HEADER_BYTES = 1 + 1 + 16 + 4 + 2 + 2;
export const FLAG_DEFLATE = 1;
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
  const json = Buffer.from(JSON.stringify(message));
  let body = json;
  let flags = 0;
  if (options.compress ?? json.length >= COMPRESS_MIN_BYTES) {
    const deflated = deflateRawSync(json, { level: 1 });
    if (options.compress || deflated.length < json.length * 0.9) {
      body = deflated;
      flags |= FLAG_DEFLATE;
    }
  }
  const room = maxPayloadBytes(topic, options.limit) - SEAL_OVERHEAD - CHUNK_HEADER_BYTES;
  if (room < 1) throw new Error(`Publish limit too small for topic ${topic}`);
  const count = Math.max(1, Math.ceil(body.length / room));
  if (count > 0xffff) throw new Error(`Message too large to frame: ${body.length} bytes`);
  const id = randomBytes(16);
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
  const json = flags & FLAG_DEFLATE ? inflateRawSync(body, { maxOutputLength: maxBytes }) : body;
  const message = JSON.parse(json.toString("utf8")) as Message;
  if (!message || typeof message !== "object" || message.type !== type) {
    throw new Error("frame type does not match its message");
  }
  return message;
}
