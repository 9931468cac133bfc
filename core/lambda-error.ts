/** Lambda's error shapes: how a handler's error crosses a boundary, and the errors Lambda's runtime reports. */
import { MAX_REQUEST_PAYLOAD_BYTES, MAX_RESPONSE_PAYLOAD_BYTES } from "../protocol/limits";
import { ERROR_PREFIX } from "./names";

/** Lambda's error shape, as the runtime reports a handler's error. */
export interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/** Serializes anything thrown into Lambda's shape, before it crosses a thread or network boundary. */
export function toLambdaError(error: unknown): LambdaError {
  if (error instanceof Error) {
    return {
      errorType: error.name || "Error",
      errorMessage: error.message,
      trace: typeof error.stack === "string" ? error.stack.split("\n") : [],
    };
  }
  if (error && typeof error === "object") {
    const e = error as Partial<LambdaError> & { name?: unknown; message?: unknown };
    if (typeof e.errorType === "string" && typeof e.errorMessage === "string") {
      return {
        errorType: e.errorType,
        errorMessage: e.errorMessage,
        trace: Array.isArray(e.trace) ? e.trace : [],
      };
    }
  }
  return {
    errorType: "Error",
    errorMessage: typeof error === "string" ? error : (JSON.stringify(error) ?? String(error)),
    trace: [],
  };
}

/** Rebuilds an Error that Lambda's runtime reports with the same type, message and stack. */
export function fromLambdaError(error: LambdaError): Error {
  const rebuilt = new Error(error.errorMessage);
  rebuilt.name = error.errorType;
  rebuilt.stack =
    error.trace.length > 0 ? error.trace.join("\n") : `${error.errorType}: ${error.errorMessage}`;
  return rebuilt;
}

/** Why invocations fail when the session shuts down under them. */
export const SHUTDOWN_REASON = "Runtime exited without providing a reason";

/** The runtime ended during an invocation (`process.exit`, a crash, a shutdown). */
export function exitError(requestId: string, reason: string): LambdaError {
  return {
    errorType: "Runtime.ExitError",
    errorMessage: `RequestId: ${requestId} Error: ${reason}`,
    trace: [],
  };
}

/** The handler used more memory than the function has: Lambda kills the runtime and says so. */
export function outOfMemoryError(requestId: string): LambdaError {
  return {
    errorType: "Runtime.OutOfMemory",
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
    trace: [],
  };
}

/** The invocation ran past its deadline; `budgetMs` is the time it had. */
export function timedOutError(requestId: string, budgetMs: number): LambdaError {
  const seconds = (Math.max(0, budgetMs) / 1000).toFixed(2);
  return {
    errorType: "Sandbox.Timedout",
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`,
    trace: [],
  };
}

/** Too many invocations wait for a worker: refused as Lambda refuses over its concurrency. */
export function throttledError(waiting: number): LambdaError {
  return {
    errorType: "TooManyRequestsException",
    errorMessage: `Rate Exceeded. (${waiting} invocations are waiting for a local worker.)`,
    trace: [],
  };
}

/** Lambda's own error for a response over its limit. */
export function responseTooLargeError(size: number): LambdaError {
  return {
    errorType: "Function.ResponseSizeTooLarge",
    errorMessage: `Response payload size (${size} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_PAYLOAD_BYTES} bytes).`,
    trace: [],
  };
}

/** Lambda's own error for a request over its limit (the Invoke API answers 413 with it). */
export function requestTooLargeError(size: number): { type: string; message: string } {
  return {
    type: "RequestTooLargeException",
    message: `Request must be smaller than ${MAX_REQUEST_PAYLOAD_BYTES} bytes for the InvokeFunction operation (got ${size} bytes)`,
  };
}

/** The handler's source does not build: invocations fail with esbuild's message until it does again. */
export function buildError(message: string): LambdaError {
  return { errorType: `${ERROR_PREFIX}BuildError`, errorMessage: message, trace: [] };
}

/** pulumi-live itself failed to run a request (a bug, or the machine): answered, never left to time out. */
export function internalError(error: unknown): LambdaError {
  return {
    errorType: `${ERROR_PREFIX}InternalError`,
    errorMessage: `pulumi-live could not run the request: ${String(error)}`,
    trace: error instanceof Error && error.stack ? error.stack.split("\n") : [],
  };
}
