/** What the serve benchmark and its host process say to each other. */
import { performance } from "node:perf_hooks";

export interface HostConfig {
  dir: string;
  environments: number;
  /** Invocation records off (`serve --no-record`). */
  noRecord?: boolean;
}

/** Benchmark → host. */
export type HostCommand = { type: "memory"; gc: boolean } | { type: "close" };

/** Host → benchmark. */
export type HostMessage =
  | { type: "ready"; gateway: string; plain: string }
  | { type: "build"; ok: boolean; at: number; durationMs: number }
  /** `keptAnswers`: bytes of answers the session keeps to answer duplicates (exactly-once). */
  | {
      type: "memory";
      heapUsed: number;
      rss: number;
      keptAnswers: number;
      /** The main thread's V8 heap reserved (`process.memoryUsage().heapTotal`); workers' heaps are not in it. */
      heapTotal: number;
    }
  | { type: "failed"; error: string };

/** Epoch ms with sub-millisecond resolution, comparable between processes of one machine. */
export const now = (): number => performance.timeOrigin + performance.now();
