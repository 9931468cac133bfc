import type { LambdaError } from "../../core/lambda-error";

/** Parent → lambda host: run one invocation. */
export interface InvokeMessage {
  type: "invoke";
  requestId: string;
  /** The event, as JSON text. */
  payload: string;
  /** Absolute epoch ms at which the parent kills the environment. */
  deadline: number;
}

/** Lambda host → parent: init is over (the handler loaded, or failed to and will report why). */
export interface ReadyMessage {
  type: "ready";
}

/**
 * Lambda host → parent: how the invocation ended. `fatal` says the environment is exiting (an uncaught
 * error), so the parent must not reuse it. `quiet` says nothing was written to stdout or stderr during the
 * invocation, so no end markers follow (see {@link endMarker}).
 */
export type ResultMessage = {
  type: "result";
  requestId: string;
  memoryMB?: number;
  fatal?: boolean;
  quiet?: boolean;
} & ({ ok: true; payload: string } | { ok: false; error: LambdaError });

/**
 * Written by the host to stdout and stderr after each invocation that wrote to either, before the result:
 * pipes and the IPC channel are not ordered with each other, so the parent waits for this to know it has
 * every log line. An invocation that wrote nothing says so instead (`quiet`): two writes saved per call.
 */
export function endMarker(requestId: string): string {
  return `\u001fpulumi-live:end:${requestId}\u001f\n`;
}
