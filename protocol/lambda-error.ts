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
