/**
 * A response stream carried over a message channel (a worker thread's port, a local host's IPC): the
 * sending side's {@link StreamSink} and the rule both sides keep, so a handler that writes faster than
 * its caller reads waits instead of filling memory. Node.js built-ins only.
 */
import type { StreamSink } from "./response-stream";

/** What the sending side posts. */
export type ChannelStreamMessage =
  { type: "stream-start"; contentType: string } | { type: "stream-chunk"; data: Uint8Array };

/** Bytes posted and not yet acknowledged before a write waits: the bound of what the channel holds. */
export const CHANNEL_WINDOW_BYTES = 1024 * 1024;

/**
 * Posts a stream's start and chunks; a write completes at once while less than the window is
 * unacknowledged, else when {@link ack} brings it back under.
 */
export class ChannelSink implements StreamSink {
  private outstanding = 0;
  private waiting: ((error?: Error | null) => void) | undefined;
  private cancelled: Error | undefined;

  constructor(
    private readonly post: (message: ChannelStreamMessage, transfer?: ArrayBuffer[]) => void,
    private readonly windowBytes = CHANNEL_WINDOW_BYTES,
  ) {}

  start(contentType: string): void {
    this.post({ type: "stream-start", contentType });
  }

  write(chunk: Buffer, done: (error?: Error | null) => void): void {
    if (this.cancelled) return done(this.cancelled);
    // A copy of its own, moved rather than cloned: a Buffer is often a view into a larger pooled one.
    const data = new Uint8Array(chunk);
    this.outstanding += data.byteLength;
    this.post({ type: "stream-chunk", data }, [data.buffer]);
    if (this.outstanding <= this.windowBytes) done();
    else this.waiting = done;
  }

  /** The receiving side took `bytes`. */
  ack(bytes: number): void {
    this.outstanding -= bytes;
    if (this.waiting && this.outstanding <= this.windowBytes) this.release();
  }

  /** Nothing more can be taken: the waiting write and every later one fail with `error`. */
  cancel(error: Error): void {
    this.cancelled ??= error;
    this.release(error);
  }

  private release(error?: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(error ?? null);
  }
}

/** The receiving side of a streamed invocation: it takes the stream's start and bytes, in order. */
export interface StreamConsumer {
  start(contentType: string): void;
  /** Resolves once the bytes are taken and more may come; the channel acknowledges them then. */
  write(data: Buffer): Promise<void>;
  /** Aborted when the caller goes away: the handler's stream is then destroyed. */
  signal?: AbortSignal;
}
