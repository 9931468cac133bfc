/**
 * Blank worker threads started ahead of need. Starting a thread (Node's bootstrap in a new isolate) is
 * most of a cold start's cost; a spare has done it already, so a new build loads in a few milliseconds
 * instead. A spare holds no code and no environment until it is taken (see worker-entry's `load`).
 */
import type { Worker } from "node:worker_threads";
import { startBlankWorker, type BlankWorkers } from "./handler-worker";

/** Memory sizes with a spare waiting: each spare is a thread's worth of memory (about 10 MB). */
const MAX_SPARES = 2;

export class SpareWorkers implements BlankWorkers {
  /** One spare per memory size (its heap bound is fixed at start), oldest first. */
  private readonly waiting = new Map<number, Worker>();
  private closing?: Promise<void>;

  /** A started blank worker with this heap bound, if one waits; the caller owns it from now on. */
  take(memoryMb: number): Worker | undefined {
    const worker = this.waiting.get(memoryMb);
    if (!worker) return undefined;
    this.waiting.delete(memoryMb);
    worker.removeAllListeners("exit").removeAllListeners("error");
    return worker;
  }

  /** Starts a spare for this memory size unless one waits already. */
  fill(memoryMb: number): void {
    if (this.closing || this.waiting.has(memoryMb)) return;
    if (this.waiting.size >= MAX_SPARES) {
      const [oldest, worker] = this.waiting.entries().next().value!;
      this.waiting.delete(oldest);
      void worker.terminate();
    }
    const worker = startBlankWorker(memoryMb);
    // A spare that fails to start is forgotten; the next cold start starts its own thread.
    worker.on("error", () => undefined);
    worker.once("exit", () => {
      if (this.waiting.get(memoryMb) === worker) this.waiting.delete(memoryMb);
    });
    this.waiting.set(memoryMb, worker);
  }

  /** Terminates the spares. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const workers = [...this.waiting.values()];
      this.waiting.clear();
      await Promise.allSettled(workers.map((worker) => worker.terminate()));
    })();
    return this.closing;
  }
}
