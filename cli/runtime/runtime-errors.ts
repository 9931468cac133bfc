/** The errors Lambda's runtime reports for what goes wrong around a handler, worded as Lambda words them. */
import type { LambdaError } from "../../protocol/lambda-error";

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
