/** What the worker pool and its worker threads say to each other (structured-clone messages). */
import type { InvocationContext } from "../../protocol";
import type { LambdaError } from "../../core/lambda-error";

/** Which bundle a worker loads and which export runs. */
export interface WorkerData {
  file: string;
  format: "cjs" | "esm";
  exportName: string;
  /** `<module>.<export>` as Lambda names the handler in its errors. */
  handlerName: string;
}

/**
 * Parent → worker, first message: the handler to load and the function's whole environment. A worker
 * thread starts blank (a spare may wait for this), so the environment is set before the code loads.
 */
export interface LoadMessage {
  type: "load";
  data: WorkerData;
  env: Record<string, string>;
}

/** Parent → worker: run one invocation. */
export interface InvokeMessage {
  type: "invoke";
  event: unknown;
  context: InvocationContext;
  deadline: number;
}

/** Parent → worker thread. */
export type ParentMessage = LoadMessage | InvokeMessage;

/** Worker → parent. */
export type WorkerMessage =
  /** The handler's module loaded (or failed to: the first invocation reports why). */
  | { type: "loaded" }
  /** A line-agnostic piece of the handler's stdout/stderr, in order with the results. */
  | { type: "log"; stream: "stdout" | "stderr"; text: string }
  /** The invocation's result, as JSON (Lambda serializes results; undefined becomes null). */
  | { type: "result"; json: string; durationMs: number }
  /** The invocation failed; the worker stays usable. */
  | { type: "error"; error: LambdaError; durationMs: number }
  /** The worker cannot go on (import failure, missing export, uncaught error): it must be replaced. */
  | { type: "fatal"; error: LambdaError };
