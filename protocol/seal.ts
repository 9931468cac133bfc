import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { PROTOCOL_VERSION } from "./messages";
import { randomPoolBytes } from "./random-pool";

/** Bytes a sealed publish adds: version, nonce and tag. */
export const SEAL_OVERHEAD = 1 + 12 + 16;

/** Decodes a base64 session key and checks that it is 256 bits. */
export function parseKey(base64: string): Buffer {
  const key = Buffer.from(base64, "base64");
  if (key.length !== 32) {
    throw new Error(`The session key must be 32 bytes of base64 (got ${key.length} bytes).`);
  }
  return key;
}

export function generateKey(): Buffer {
  return randomBytes(32);
}

/**
 * AES-256-GCM with a fresh nonce; the topic is authenticated too, so a frame cannot be moved from one
 * topic to another (a response meant for one environment replayed to another, say).
 * Layout: version (1) | nonce (12) | ciphertext | tag (16).
 */
export function seal(key: Buffer, topic: string, plain: Buffer): Buffer {
  const nonce = randomPoolBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(additionalData(topic));
  const body = cipher.update(plain);
  cipher.final();
  return Buffer.concat([VERSION, nonce, body, cipher.getAuthTag()]);
}

const VERSION = Buffer.of(PROTOCOL_VERSION);
/** The authenticated data of each topic (a process seals on a handful): version | topic. */
const aads = new Map<string, Buffer>();
const MAX_AADS = 256;

function additionalData(topic: string): Buffer {
  let aad = aads.get(topic);
  if (!aad) {
    aad = Buffer.concat([VERSION, Buffer.from(topic)]);
    if (aads.size >= MAX_AADS) aads.clear();
    aads.set(topic, aad);
  }
  return aad;
}

/** Returns the plain bytes, or undefined when the frame is not ours (wrong key, topic, version or damaged). */
export function open(key: Buffer, topic: string, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < SEAL_OVERHEAD || sealed[0] !== PROTOCOL_VERSION) return undefined;
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(1, 13));
    decipher.setAAD(additionalData(topic));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plain = decipher.update(bytes.subarray(13, bytes.length - 16));
    decipher.final();
    return plain;
  } catch {
    return undefined;
  }
}
