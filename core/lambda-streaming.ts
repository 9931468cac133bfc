/**
 * How Lambda's Node.js runtime calls a streaming handler (`Runtime.js` `handleOnceStreaming` and
 * `StreamingContext.js` of aws-lambda-nodejs-runtime-interface-client): `handler(event, responseStream,
 * context)`, which must return a promise; a return value is ignored with a warning; a throw or rejection,
 * before or after bytes were written, fails the invocation with the error Lambda then reports after the
 * bytes written so far (its trailers). Part of the runtime core next to `lambda-runtime.ts`, used by the
 * worker threads, the local hosts and the stub's fallback. Node.js built-ins only.
 */
import { finished } from "node:stream/promises";
import type { InvocationContext } from "../protocol/messages";
import { streamHighWaterMark } from "./awslambda";
import { contextFields, type LambdaHandler } from "./lambda-runtime";
import { ResponseStream, type StreamSink } from "./response-stream";

/** The `context` of a streaming handler: Lambda's fields, no `succeed`/`fail`/`done`. */
export interface StreamingContext extends InvocationContext {
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

/** How a streamed invocation ended: its bytes went to the sink; only an error is left to report. */
export type StreamCompletion = { ok: true } | { ok: false; error: unknown };

export interface StreamingInvokeOptions {
  /** Absolute deadline, epoch ms. */
  deadline: number;
  sink: StreamSink;
  /** The caller went away: the handler's stream is destroyed, so its writes and pipelines fail. */
  signal?: AbortSignal;
}

/** What a handler whose caller went away sees on its stream. */
export const CALLER_GONE_MESSAGE = "The response stream was closed: the caller went away.";

/**
 * Calls a streaming handler as Lambda's runtime does; resolves once its stream has ended and every byte
 * reached the sink, or with the error to report. Never rejects.
 */
export async function invokeStreamingHandler(
  handler: LambdaHandler,
  event: unknown,
  data: InvocationContext,
  options: StreamingInvokeOptions,
): Promise<StreamCompletion> {
  const stream = new ResponseStream(options.sink, streamHighWaterMark(handler));
  // A stream nobody listens to for errors would crash the process when destroyed with one.
  stream.on("error", () => undefined);
  const onAbort = () => stream.destroy(Object.assign(new Error(CALLER_GONE_MESSAGE), { code: "ECONNRESET" }));
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  let waitForEmptyEventLoop = true;
  const context: StreamingContext = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value: boolean) {
      waitForEmptyEventLoop = value;
    },
    ...contextFields(data, options.deadline),
  };
  try {
    const returned: unknown = handler(event, stream, context as never);
    if (!isThenable(returned)) {
      // Lambda fails with this very string (so its type is "string").
      return await fail(stream, "Streaming does not support non-async handlers.");
    }
    const result = await returned;
    if (result !== undefined) console.warn("Streaming handlers ignore return values.");
    // Lambda answers once its request to the runtime API completes, which needs the stream ended.
    await finished(stream);
    return { ok: true };
  } catch (error) {
    return await fail(stream, error);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** Lambda ends the stream before its error trailers: what was written still reaches the caller first. */
async function fail(stream: ResponseStream, error: unknown): Promise<StreamCompletion> {
  if (!stream.destroyed && !stream.writableEnded) {
    stream.end();
    await finished(stream).catch(() => undefined);
  }
  return { ok: false, error };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}
