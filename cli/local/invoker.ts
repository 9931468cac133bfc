/** What the gateway calls: one local function, however it runs (a local Lambda-like process, a test fake). */
export interface Invoker {
  /** Runs one invocation with a JSON event; resolves with the result bytes, never rejects for handler errors. */
  invoke(payload: Buffer, options: InvokeOptions): Promise<InvokeResult>;
  /** Stops every environment; later invocations fail. Idempotent. */
  close(): Promise<void>;
}

/** Per-invocation options. */
export interface InvokeOptions {
  /** Return the last 4 KB of the invocation's logs (`LogType: Tail`). */
  tail: boolean;
  /** The invocation's awsRequestId; a random UUID when absent. */
  requestId?: string;
}

/** How one invocation ended, as the Lambda Invoke API reports it. */
export interface InvokeResult {
  /** JSON of the handler's result, or of a {@link LambdaError} when `functionError` is set. */
  payload: Buffer;
  /** Set when the handler failed (thrown error, timeout, crash): the payload is the error. */
  functionError?: "Unhandled";
  /** The last 4 KB of the environment's stdout and stderr during this invocation, when asked for. */
  logTail?: string;
  requestId: string;
  durationMs: number;
}
