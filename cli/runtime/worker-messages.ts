/** What the worker pool and its worker threads say to each other (structured-clone messages). */
import type { InvocationContext } from "../../protocol";
import type { LambdaError } from "../../core/lambda-error";

/** Given to each worker at spawn: which bundle to load and which export runs. */
export interface WorkerData {
  file: string;
  format: "cjs" | "esm";
  exportName: string;
  /** `<module>.<export>` as Lambda names the handler in its errors. */
  handlerName: string;
}

/** Parent → worker: run one invocation. */
export interface InvokeMessage {
  type: "invoke";
  event: unknown;
  context: InvocationContext;
  deadline: number;
}

/** Worker → parent. */
export type WorkerMessage =
  /** A line-agnostic piece of the handler's stdout/stderr, in order with the results. */
  | { type: "log"; stream: "stdout" | "stderr"; text: string }
  /** The invocation's result, as JSON (Lambda serializes results; undefined becomes null). */
  | { type: "result"; json: string; durationMs: number }
  /** The invocation failed; the worker stays usable. */
  | { type: "error"; error: LambdaError; durationMs: number }
  /** The worker cannot go on (import failure, missing export, uncaught error): it must be replaced. */
  | { type: "fatal"; error: LambdaError };
