/**
 * The `awslambda` global Lambda's Node.js runtime gives handler modules (`UserFunction.js` of
 * aws-lambda-nodejs-runtime-interface-client): `streamifyResponse` marks a handler as streaming, with
 * the same symbols the runtime reads, and `HttpResponseStream`. Installed before a handler module loads,
 * so the same file runs live, in local mode and deployed. Node.js built-ins only.
 */
import { HttpResponseStream } from "./response-stream";

/** The symbols Lambda's runtime reads on a handler (shared through the global symbol registry). */
export const HANDLER_STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
export const HANDLER_HIGHWATERMARK = Symbol.for("aws.lambda.runtime.handler.streaming.highWaterMark");
const STREAM_RESPONSE = "response";

/** What `awslambda` holds. */
export interface AwsLambdaGlobal {
  streamifyResponse<H extends (...args: never[]) => unknown>(
    handler: H,
    options?: { highWaterMark?: number },
  ): H;
  HttpResponseStream: typeof HttpResponseStream;
}

function streamifyResponse<H extends (...args: never[]) => unknown>(
  handler: H,
  options?: { highWaterMark?: number },
): H {
  const marked = handler as unknown as Record<symbol, unknown>;
  marked[HANDLER_STREAMING] = STREAM_RESPONSE;
  if (typeof options?.highWaterMark === "number") {
    marked[HANDLER_HIGHWATERMARK] = parseInt(String(options.highWaterMark));
  }
  return handler;
}

/**
 * Defines `globalThis.awslambda` unless the function opts out (`AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA`,
 * as on Lambda) or it is there already (inside Lambda, where the stub's fallback loads, the runtime's own).
 */
export function installAwsLambdaGlobal(env: NodeJS.ProcessEnv = process.env): void {
  const optOut = env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (optOut === "1" || optOut === "true") return;
  // @types/aws-lambda declares its own shape of the global; ours is what the runtime really defines.
  const scope = globalThis as unknown as { awslambda?: AwsLambdaGlobal };
  scope.awslambda ??= { streamifyResponse, HttpResponseStream };
}

/**
 * Whether Lambda's runtime streams this handler's response.
 * @throws an Error named `Runtime.MalformedStreamingHandler` for a mark other than response streaming
 */
export function isStreamingHandler(handler: unknown): boolean {
  const mark = (handler as Record<symbol, unknown> | null | undefined)?.[HANDLER_STREAMING];
  if (mark === undefined || mark === null || mark === false) return false;
  if (mark === STREAM_RESPONSE) return true;
  const error = new Error("Only response streaming is supported.");
  error.name = "Runtime.MalformedStreamingHandler";
  throw error;
}

/** The high water mark a streaming handler asked for, if any. */
export function streamHighWaterMark(handler: unknown): number | undefined {
  const mark = (handler as Record<symbol, unknown>)[HANDLER_HIGHWATERMARK];
  if (mark === undefined || mark === null || mark === false) return undefined;
  // Lambda's runtime parses it as an integer; what is neither text nor a number parses to nothing.
  const value = parseInt(typeof mark === "string" || typeof mark === "number" ? String(mark) : "", 10);
  return Number.isNaN(value) ? undefined : value;
}
