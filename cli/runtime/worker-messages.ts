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
  /** The caller takes a stream: a streaming handler's bytes come as `stream-*` messages. */
  stream?: boolean;
}

/** Parent → worker, during a streamed invocation. */
export type StreamControlMessage =
  /** The parent took this many bytes of the stream: the handler may write as many more. */
  | { type: "stream-ack"; bytes: number }
  /** The caller went away: the handler's stream is destroyed. */
  | { type: "stream-cancel" };

/** Parent → worker thread. */
export type ParentMessage = LoadMessage | InvokeMessage | StreamControlMessage;

/** Worker → parent. */
export type WorkerMessage =
  /** The handler's module loaded (or failed to: the first invocation reports why). */
  | { type: "loaded" }
  /** A line-agnostic piece of the handler's stdout/stderr, in order with the results. */
  | { type: "log"; stream: "stdout" | "stderr"; text: string }
  /** The invocation's result, as JSON (Lambda serializes results; undefined becomes null). */
  | { type: "result"; json: string; durationMs: number }
  /** A streaming handler ended its stream; every byte was sent before this. */
  | { type: "streamed"; durationMs: number }
  /** A streaming handler's content type, before its first bytes. */
  | { type: "stream-start"; contentType: string }
  /** Bytes a streaming handler wrote, in order. */
  | { type: "stream-chunk"; data: Uint8Array }
  /** The invocation failed; the worker stays usable. */
  | { type: "error"; error: LambdaError; durationMs: number }
  /** The worker cannot go on (import failure, missing export, uncaught error): it must be replaced. */
  | { type: "fatal"; error: LambdaError };
