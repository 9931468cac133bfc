import type { StreamConsumer } from "../../core/stream-channel";

/** What the gateway calls: one local function, however it runs (a local Lambda-like environment, a test fake). */
export interface Invoker {
  /** Runs one invocation with a JSON event; resolves with the result bytes, never rejects for handler errors. */
  invoke(payload: Buffer, options: InvokeOptions): Promise<InvokeResult>;
  /** Stops every environment; later invocations fail. Idempotent. */
  close(): Promise<void>;
  /** The function streams its response (a streaming handler; live, a streaming stub). */
  readonly streaming?: boolean;
}

/** Per-invocation options. */
export interface InvokeOptions {
  /** Return the last 4 KB of the invocation's logs (`LogType: Tail`). */
  tail: boolean;
  /** The invocation's awsRequestId; a random UUID when absent. */
  requestId?: string;
  /**
   * The caller takes a stream: a streaming handler's bytes go here as it writes them. Without one, they
   * are gathered into the result, as Lambda's Invoke API answers for a streaming function.
   */
  stream?: StreamConsumer;
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
  /** The streamed response's content type, when the handler streamed. */
  contentType?: string;
  /** The bytes went to `InvokeOptions.stream` (the payload is empty, or the error). */
  streamed?: boolean;
}
