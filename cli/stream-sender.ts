/**
 * Sends one streamed answer to a stub as the handler writes it: `stream-start`, then chunks of at most one
 * publish each, then `stream-end`, numbered by `seq` and sent only as far as the stub granted
 * (`stream-credit`, see `protocol/messages.ts`). What the handler writes while the window is closed is
 * joined into full chunks, so a handler of many small writes costs few publishes; past a bound the
 * handler's own writes wait (backpressure through the worker). Nothing of the stream is kept once sent.
 */
import { encodeMessage, maxStreamChunkBytes, type StreamMessage } from "../protocol";
import type { LambdaError } from "../core/lambda-error";
import { streamTooLargeError } from "../core/lambda-error";
import type { StreamConsumer } from "../core/stream-channel";

export interface StreamSenderOptions {
  key: Buffer;
  requestId: string;
  sessionId: string;
  /** The stub's response topic. */
  topic: string;
  /** What the stub's request offered. */
  window: number;
  /** Publishes one frame (paced, where the connection needs it); resolves on the broker's acknowledgement. */
  publish(frame: Buffer): Promise<void>;
  /** Deflate chunks that shrink (worth it where bandwidth is metered and capped). @default false */
  compress?: boolean;
  /** Most bytes a stream may carry; past it the handler's stream is stopped and the stream fails. */
  maxBytes: number;
  /** Bytes one chunk carries at most. @default one publish's worth on `topic` */
  maxChunkBytes?: number;
}

/** Bytes waiting to be sent before the handler's next write waits. */
const QUEUE_BYTES = 256 * 1024;

export class StreamSender {
  /** Aborted when the stream must stop: the stub's caller went away, or the stream grew too large. */
  private readonly abort = new AbortController();
  /** Set when the stream failed here; it overrides what the handler's end reports. */
  failure: LambdaError | undefined;
  /** Bytes the handler wrote. */
  bytes = 0;
  private contentType: string | undefined;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private nextSeq = 0;
  /** The highest `seq` the stub allows now. */
  private allowed: number;
  private ending: { error?: LambdaError; logs?: string } | undefined;
  private closed = false;
  private pumping = false;
  /** Bytes sent in chunks. */
  private sent = 0;
  private readonly drained = new Set<() => void>();
  private endSent: ((sent: boolean) => void) | undefined;
  private readonly maxChunk: number;

  /** What the worker pool writes the handler's stream into. */
  readonly consumer: StreamConsumer = {
    start: (contentType) => this.start(contentType),
    write: (data) => this.write(data),
    signal: this.abort.signal,
  };

  constructor(private readonly options: StreamSenderOptions) {
    this.allowed = Math.max(1, Math.floor(options.window)) - 1;
    this.maxChunk = options.maxChunkBytes ?? maxStreamChunkBytes(options.topic);
  }

  /** Whether the handler's stream started: its answer is a stream, whatever happens next. */
  get started(): boolean {
    return this.contentType !== undefined;
  }

  /** The stub wrote everything up to `seq`. */
  credit(seq: number): void {
    if (!Number.isInteger(seq)) return;
    this.allowed = Math.max(this.allowed, seq + Math.max(1, Math.floor(this.options.window)));
    this.pump();
  }

  /** The stub's caller went away (or the session gives up): stop the handler's stream, send nothing more. */
  cancel(): void {
    this.close();
    this.abort.abort();
  }

  /**
   * Ends the stream with the handler's outcome (or this sender's own failure); resolves once the end is
   * published, or at once when the stream was cancelled.
   */
  end(outcome: { error?: LambdaError; logs?: string }): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.ending = this.failure ? { ...outcome, error: this.failure } : outcome;
    const sent = new Promise<boolean>((resolve) => (this.endSent = resolve));
    this.pump();
    return sent;
  }

  private start(contentType: string): void {
    this.contentType ??= contentType;
    this.pump();
  }

  private write(data: Buffer): Promise<void> {
    if (this.closed || data.length === 0) return Promise.resolve();
    this.bytes += data.length;
    if (this.bytes > this.options.maxBytes) {
      this.failure ??= streamTooLargeError(this.options.maxBytes);
      this.abort.abort();
      return Promise.resolve();
    }
    this.queue.push(data);
    this.queued += data.length;
    this.pump();
    if (this.queued <= QUEUE_BYTES) return Promise.resolve();
    return new Promise((resolve) => this.drained.add(resolve));
  }

  private close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queued = 0;
    this.release();
    this.endSent?.(false);
  }

  private release(): void {
    if (this.queued > QUEUE_BYTES) return;
    for (const resolve of this.drained) resolve();
    this.drained.clear();
  }

  /** Sends whatever is ready and granted, in `seq` order. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let message = this.next(); message; message = this.next()) this.send(message);
    } finally {
      this.pumping = false;
    }
  }

  private send(message: StreamMessage): void {
    const frames = encodeMessage(this.options.key, this.options.topic, message, {
      compress: this.options.compress ? undefined : false,
    });
    let last: Promise<void> = Promise.resolve();
    // Not awaited: the window bounds what is in flight, and publishes go out in the order asked.
    for (const frame of frames) last = this.options.publish(frame);
    if (message.type !== "stream-end") {
      last.catch(() => this.fail());
      return;
    }
    this.closed = true;
    last.then(
      () => this.endSent?.(true),
      () => this.endSent?.(false),
    );
  }

  /** The next message to send, or undefined when nothing is ready or granted. */
  private next(): StreamMessage | undefined {
    if (this.closed || this.contentType === undefined || this.nextSeq > this.allowed) return undefined;
    const { requestId } = this.options;
    if (this.nextSeq === 0) {
      this.nextSeq = 1;
      return {
        type: "stream-start",
        requestId,
        sessionId: this.options.sessionId,
        seq: 0,
        contentType: this.contentType,
      };
    }
    if (this.queued > 0) return { type: "stream-chunk", requestId, seq: this.nextSeq++, data: this.take() };
    if (!this.ending) return undefined;
    const { error, logs } = this.ending;
    return {
      type: "stream-end",
      requestId,
      seq: this.nextSeq++,
      bytes: this.sent,
      ...(error ? { error } : {}),
      ...(logs ? { logs } : {}),
    };
  }

  /** Up to one chunk's worth of the queued bytes, joined. */
  private take(): Buffer {
    const parts: Buffer[] = [];
    let size = 0;
    while (this.queue.length > 0 && size < this.maxChunk) {
      const head = this.queue[0];
      const room = this.maxChunk - size;
      if (head.length <= room) {
        parts.push(head);
        size += head.length;
        this.queue.shift();
      } else {
        parts.push(head.subarray(0, room));
        this.queue[0] = head.subarray(room);
        size += room;
      }
    }
    this.queued -= size;
    this.sent += size;
    this.release();
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
  }

  /** A publish failed: the stub will not get the stream whole, so the handler need not write on. */
  private fail(): void {
    if (this.closed) return;
    this.cancel();
  }
}
