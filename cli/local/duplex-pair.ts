import { Duplex } from "node:stream";

/**
 * One end of an in-memory byte pipe: what is written to it is read from its peer. Bytes cross on the next
 * tick, never inside the writer's call, so the reader (an MQTT parser that may answer at once) never runs
 * re-entrantly inside the writer's code. A reader that falls behind holds its writer back (the write's
 * callback waits for the reader's next `_read`).
 */
class PipeEnd extends Duplex {
  peer!: PipeEnd;
  /** The write callback held back until this end's reader wants more. */
  private held?: () => void;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    process.nextTick(() => this.deliver([chunk], callback));
  }

  /** Chunks written while a write was under way go across together, in one tick. */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    process.nextTick(() =>
      this.deliver(
        chunks.map((c) => c.chunk),
        callback,
      ),
    );
  }

  private deliver(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer.destroyed || peer.readableEnded) return callback();
    let wantsMore = true;
    for (const chunk of chunks) wantsMore = peer.push(chunk);
    if (wantsMore) callback();
    else peer.held = () => callback();
  }

  override _read(): void {
    const held = this.held;
    this.held = undefined;
    held?.();
  }

  override _final(callback: (error?: Error | null) => void): void {
    // The writer's end is the reader's end of stream; the nextTick keeps it behind the last chunk.
    process.nextTick(() => {
      if (!this.peer.destroyed) this.peer.push(null);
      callback();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A link cut at one end is cut at both, as a socket's close is seen by both parties.
    const held = this.held;
    this.held = undefined;
    held?.();
    if (!this.peer.destroyed) process.nextTick(() => this.peer.destroy());
    callback(error);
  }
}

/** Two connected in-memory duplex streams (Node 22's `duplexPair`, which Node 20 lacks). */
export function duplexPair(): [Duplex, Duplex] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
