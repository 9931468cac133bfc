/** The worker pool's types: what an invocation asks for and gives back, and the pool's own records. */
import type { InvocationContext } from "../../protocol/messages";
import type { GoodBuild } from "./builder";
import type { HandlerWorker, WorkerRequest } from "./handler-worker";
import type { LogLines, LogTail } from "./log-lines";
import type { LambdaError } from "../../core/lambda-error";

/** One invocation for the pool to run. */
export interface InvokeRequest {
  functionName: string;
  /** The remote execution environment: one local worker serves one. */
  envId: string;
  build: GoodBuild;
  exportName: string;
  event: unknown;
  context: InvocationContext;
  /** Absolute deadline, epoch ms. */
  deadline: number;
  /** The complete environment of the worker (see `localEnvironment`); not changed after it is passed (its hash is cached by object). */
  environment: Record<string, string>;
}

export type InvokeOutcome = ({ ok: true; result: unknown } | { ok: false; error: LambdaError }) & {
  /** The last 4 KB of the handler's output during this invocation. */
  logs: string;
  durationMs: number;
  /** A new worker loaded the handler for this invocation. */
  coldStart: boolean;
};

/** One line the handler wrote. */
export interface LogEvent {
  functionName: string;
  envId: string;
  requestId: string;
  stream: "stdout" | "stderr";
  line: string;
}

export interface WorkerPoolOptions {
  /** Most worker threads alive at once. */
  concurrency: number;
  /** Most invocations waiting for a worker; more are refused as Lambda refuses them. @default 1000 */
  maxQueued?: number;
  onLog?: (event: LogEvent) => void;
  /**
   * A debugger may hold invocations at breakpoints: past its deadline a running invocation is reported
   * through {@link onDeadlinePassed} instead of being timed out and its worker terminated.
   * @default false
   */
  debugging?: boolean;
  /**
   * The developer's explicit local variables (`--env`, the env file): set over every invocation's
   * environment, after its rules (see `core/local-environment`) have been applied.
   */
  localVariables?: Record<string, string>;
  /** While debugging: a running invocation passed its (remote) deadline and is still held. */
  onDeadlinePassed?: (event: { functionName: string; requestId: string; budgetMs: number }) => void;
  /**
   * Keep a blank worker thread started ahead of need (per memory size, beside the `concurrency` workers),
   * so that a cold start — above all the first invocation after a build — skips starting a thread. Off
   * while debugging: a debugger names threads by function and environment, which a spare cannot know.
   * @default false
   */
  spareWorkers?: boolean;
}

/** @internal An invocation inside the pool. */
export interface Job {
  req: InvokeRequest;
  /** Which worker may serve it: `current` is keyed by this. */
  key: string;
  /** What that worker must run (see {@link Slot.identity}). */
  identity: string;
  resolve: (outcome: InvokeOutcome) => void;
  receivedAt: number;
  timer?: NodeJS.Timeout;
  slot?: Slot;
  startedAt?: number;
  coldStart: boolean;
  logs: LogTail;
  done: boolean;
}

/** @internal A worker thread of the pool and what it was started with. */
export interface Slot {
  key: string;
  functionName: string;
  envId: string;
  /** The bundle, export and environment it runs: any change needs a new worker. */
  identity: string;
  /** What it was started with (a later build of the function starts its successor from this). */
  request: WorkerRequest;
  worker: HandlerWorker;
  job?: Job;
  /** Invocations it has run: the first is the cold start. */
  invocations: number;
  /** Output from before its first invocation (a worker started ahead of it): that invocation's log. */
  early: { stream: "stdout" | "stderr"; line: string }[];
  lastRequestId: string;
  lastUsed: number;
  retiring: boolean;
  crash?: LambdaError;
  /** The worker was stopped for going over its memory limit (the function's memory size). */
  outOfMemory?: boolean;
  lines: LogLines;
}
