import { decodeBody, parseChunk, type Chunk } from "./frame";
import type { Message } from "./messages";
import { open } from "./seal";

export interface ReassemblerOptions {
  /** Largest message body accepted, compressed or not (bytes). */
  maxMessageBytes?: number;
  /**
   * Largest total of memory held for incomplete messages (bytes), bookkeeping included: every message
   * and every chunk held is charged a fixed overhead on top of its data. The oldest are dropped past it.
   */
  maxPendingBytes?: number;
  /** Largest number of incomplete messages held; the oldest are dropped past it. */
  maxIncomplete?: number;
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

/** What one incomplete message and one chunk held cost beyond their data (map entries, objects). */
export const PENDING_MESSAGE_OVERHEAD = 512;
export const PENDING_CHUNK_OVERHEAD = 128;

interface Pending {
  type: Message["type"];
  flags: number;
  total: number;
  count: number;
  /** The data bytes of every chunk but the last, as the sender cut them. */
  room: number;
  /** Chunks received, by index: only what arrived is held, whatever count the header declares. */
  parts: Map<number, Buffer>;
  /** Memory charged to the bound: overheads plus data. */
  charged: number;
  firstSeen: number;
}

/**
 * The chunk size a message was cut with, as one of its chunks shows it, or undefined when the chunk
 * cannot belong to a message of its declared total and count. Every chunk but the last carries exactly
 * `room` bytes and the last one 1 to `room`, so the total decides how many chunks there can be: a header
 * declaring more is refused before anything is held for it.
 */
export function chunkRoom(chunk: Pick<Chunk, "total" | "count" | "index" | "data">): number | undefined {
  const { total, count, index } = chunk;
  const length = chunk.data.length;
  if (count < 2 || length === 0 || count > total) return undefined;
  if (index < count - 1) return Math.ceil(total / length) === count ? length : undefined;
  const rest = total - length;
  if (rest % (count - 1) !== 0) return undefined;
  const room = rest / (count - 1);
  return room >= length ? room : undefined;
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
  private readonly maxIncomplete: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly key: Buffer,
    options: ReassemblerOptions = {},
  ) {
    this.maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 * 1024;
    this.maxIncomplete = options.maxIncomplete ?? 1024;
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Memory currently charged for incomplete messages (bytes), overheads included. */
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
    const room = chunkRoom(chunk);
    let entry = this.pending.get(chunk.id);
    if (
      room === undefined ||
      (entry &&
        (entry.count !== chunk.count ||
          entry.total !== chunk.total ||
          entry.type !== chunk.type ||
          entry.flags !== chunk.flags ||
          entry.room !== room))
    ) {
      this.drops.malformed++;
      return undefined;
    }
    if (!entry) {
      entry = {
        type: chunk.type,
        flags: chunk.flags,
        total: chunk.total,
        count: chunk.count,
        room,
        parts: new Map(),
        charged: PENDING_MESSAGE_OVERHEAD,
        firstSeen: this.now(),
      };
      this.pending.set(chunk.id, entry);
      this.pendingBytes += entry.charged;
    } else if (entry.parts.has(chunk.index)) {
      this.drops.duplicate++;
      return undefined;
    }
    const cost = PENDING_CHUNK_OVERHEAD + chunk.data.length;
    entry.parts.set(chunk.index, Buffer.from(chunk.data));
    entry.charged += cost;
    this.pendingBytes += cost;
    if (entry.parts.size < entry.count) {
      this.evict();
      return undefined;
    }
    this.discard(chunk.id, entry);
    const ordered: Buffer[] = [];
    for (let index = 0; index < entry.count; index++) ordered.push(entry.parts.get(index)!);
    return this.decode(entry.type, entry.flags, Buffer.concat(ordered));
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
    this.pendingBytes -= entry.charged;
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

  /** Drops the oldest incomplete messages while over either bound. */
  private evict(): void {
    for (const [id, entry] of this.pending) {
      if (this.pendingBytes <= this.maxPendingBytes && this.pending.size <= this.maxIncomplete) break;
      this.discard(id, entry);
      this.drops.evicted++;
    }
  }
}
