import type { LambdaError } from "../../core/lambda-error";

/** Parent → lambda host: run one invocation. */
export interface InvokeMessage {
  type: "invoke";
  requestId: string;
  /** The event, as JSON bytes (a buffer of its own: a thread's is moved, not copied). */
  payload: Uint8Array;
  /** Absolute epoch ms at which the parent kills the environment. */
  deadline: number;
}

/** Parent → lambda host, during a streamed invocation: bytes taken, or the caller went away. */
export type StreamControlMessage =
  { type: "stream-ack"; requestId: string; bytes: number } | { type: "stream-cancel"; requestId: string };

/** Everything the parent sends a lambda host. */
export type ParentMessage = InvokeMessage | StreamControlMessage;

/** Lambda host → parent: a streaming handler's content type, then its bytes as it writes them. */
export type HostStreamMessage = { requestId: string } & (
  { type: "stream-start"; contentType: string } | { type: "stream-chunk"; data: Uint8Array }
);

/** Lambda host → parent: init is over (the handler loaded, or failed to and will report why). */
export interface ReadyMessage {
  type: "ready";
}

/**
 * Thread host → parent: what the environment wrote to stdout or stderr. It travels on the same port as
 * the result, so every line arrives before the result of the invocation that wrote it.
 */
export interface LogMessage {
  type: "log";
  stream: "stdout" | "stderr";
  text: string;
}

/**
 * Lambda host → parent: how the invocation ended. `fatal` says the environment is exiting (an uncaught
 * error), so the parent must not reuse it. `quiet` says no end markers follow (see {@link endMarker}):
 * nothing was written, or the output came in order on the same channel (a thread).
 */
export type ResultMessage = {
  type: "result";
  requestId: string;
  memoryMB?: number;
  fatal?: boolean;
  quiet?: boolean;
} & (
  | { ok: true; payload: Uint8Array }
  /** A streaming handler ended its stream: its bytes came before, as `stream-chunk`s. */
  | { ok: true; streamed: true }
  | { ok: false; error: LambdaError }
);

/** Everything a lambda host sends its parent. */
export type HostMessage = ResultMessage | ReadyMessage | HostStreamMessage | LogMessage;

/**
 * Written by the process host to stdout and stderr after each invocation that wrote to either, before the
 * result: pipes and the IPC channel are not ordered with each other, so the parent waits for this to know
 * it has every log line. An invocation that wrote nothing says so instead (`quiet`): two writes saved.
 */
export function endMarker(requestId: string): string {
  return `\u001fpulumi-live:end:${requestId}\u001f\n`;
}
