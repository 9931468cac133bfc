import { decodeBody, parseChunk } from "./frame";
import type { Message } from "./messages";
import { open } from "./seal";

export interface ReassemblerOptions {
  /** Largest message body accepted, compressed or not (bytes). */
  maxMessageBytes?: number;
  /** Largest total of bytes held for incomplete messages; the oldest are dropped past it. */
  maxPendingBytes?: number;
  /** Incomplete messages older than this are dropped (ms). */
  maxAgeMs?: number;
  now?: () => number;
}

/** Why frames were dropped, counted. */
export interface DropCounts {
  unsealed: number;
  malformed: number;
  oversized: number;
  expired: number;
  evicted: number;
  duplicate: number;
}

interface Pending {
  type: Message["type"];
  flags: number;
  total: number;
  parts: (Buffer | undefined)[];
  received: number;
  bytes: number;
  firstSeen: number;
}

/**
 * Opens sealed frames and joins chunks into messages, holding bounded memory for incomplete ones.
 * Frames that fail to open or parse are dropped and counted; nothing here throws on bad input.
 */
export class Reassembler {
  readonly drops: DropCounts = {
    unsealed: 0,
    malformed: 0,
    oversized: 0,
    expired: 0,
    evicted: 0,
    duplicate: 0,
  };
  private readonly pending = new Map<string, Pending>();
  private pendingBytes = 0;
  private readonly maxMessageBytes: number;
  private readonly maxPendingBytes: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly key: Buffer,
    options: ReassemblerOptions = {},
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 * 1024;
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Bytes currently held for incomplete messages. */
  get heldBytes(): number {
    return this.pendingBytes;
  }

  get incomplete(): number {
    return this.pending.size;
  }

  /** Feeds one publish received on `topic`; returns the message it completes, if any. */
  push(topic: string, payload: Uint8Array): Message | undefined {
    this.expire();
    const plain = open(this.key, topic, payload);
    if (!plain) {
      this.drops.unsealed++;
      return undefined;
    }
    const chunk = parseChunk(plain);
    if (!chunk) {
      this.drops.malformed++;
      return undefined;
    }
    if (chunk.total > this.maxMessageBytes) {
      this.drops.oversized++;
      return undefined;
    }
    if (chunk.count === 1) {
      if (chunk.data.length !== chunk.total) {
        this.drops.malformed++;
        return undefined;
      }
      return this.decode(chunk.type, chunk.flags, chunk.data);
    }
    let entry = this.pending.get(chunk.id);
    if (!entry) {
      entry = {
        type: chunk.type,
        flags: chunk.flags,
        total: chunk.total,
        parts: new Array<Buffer | undefined>(chunk.count).fill(undefined),
        received: 0,
        bytes: 0,
        firstSeen: this.now(),
      };
      this.pending.set(chunk.id, entry);
    } else if (
      entry.parts.length !== chunk.count ||
      entry.total !== chunk.total ||
      entry.type !== chunk.type
    ) {
      this.drops.malformed++;
      return undefined;
    }
    if (entry.parts[chunk.index]) {
      this.drops.duplicate++;
      return undefined;
    }
    if (entry.bytes + chunk.data.length > entry.total) {
      this.discard(chunk.id, entry);
      this.drops.malformed++;
      return undefined;
    }
    entry.parts[chunk.index] = Buffer.from(chunk.data);
    entry.received++;
    entry.bytes += chunk.data.length;
    this.pendingBytes += chunk.data.length;
    if (entry.received < entry.parts.length) {
      this.evict();
      return undefined;
    }
    this.discard(chunk.id, entry);
    if (entry.bytes !== entry.total) {
      this.drops.malformed++;
      return undefined;
    }
    return this.decode(entry.type, entry.flags, Buffer.concat(entry.parts as Buffer[]));
  }

  private decode(type: Message["type"], flags: number, body: Buffer): Message | undefined {
    try {
      return decodeBody(type, flags, body, this.maxMessageBytes);
    } catch {
      this.drops.malformed++;
      return undefined;
    }
  }

  private discard(id: string, entry: Pending): void {
    this.pending.delete(id);
    this.pendingBytes -= entry.bytes;
  }

  /** Drops incomplete messages past their age. Map order is insertion order: oldest first. */
  private expire(): void {
    const cutoff = this.now() - this.maxAgeMs;
    for (const [id, entry] of this.pending) {
      if (entry.firstSeen > cutoff) break;
      this.discard(id, entry);
      this.drops.expired++;
    }
  }

  private evict(): void {
    for (const [id, entry] of this.pending) {
      if (this.pendingBytes <= this.maxPendingBytes) break;
      this.discard(id, entry);
      this.drops.evicted++;
    }
  }
}
