/**
 * Lambda's `InvokeWithResponseStream` API, `POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations`
 * (https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html): status 200 at once,
 * the function's bytes as `PayloadChunk` events as it writes them, then `InvokeComplete`, with the
 * error's type and message when the function failed, mid-stream or before. `@aws-sdk/client-lambda`'s
 * `InvokeWithResponseStreamCommand` reads it unchanged. A function that does not stream answers with
 * its JSON result in one chunk. A caller that goes away stops the function's stream.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { LambdaError } from "../../core/lambda-error";
import type { StreamConsumer } from "../../core/stream-channel";
import { invokeComplete, payloadChunk } from "./event-stream";
import { error, header, readInvokeRequest, type InvokeApiContext } from "./invoke-api";
import { writeOrWait } from "./stream-writes";

export const INVOKE_STREAM_PATH = /^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations$/;

export async function handleInvokeStream(
  req: IncomingMessage,
  res: ServerResponse,
  functionName: string,
  context: InvokeApiContext,
): Promise<void> {
  const request = await readInvokeRequest(req, res, functionName, context, ["RequestResponse", "DryRun"]);
  if (!request) return;
  const { name, invoker, body } = request;
  const requestId = randomUUID();
  const tail = header(req, "x-amz-log-type") === "Tail";
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  const begin = (contentType: string): void => {
    if (res.headersSent) return;
    res.writeHead(200, {
      // The SDK reports it as ResponseStreamContentType: the function's stream's own type.
      "Content-Type": contentType,
      "x-amzn-RequestId": requestId,
      "X-Amz-Executed-Version": "$LATEST",
    });
  };
  const stream: StreamConsumer = {
    start: begin,
    write: (data) => writeOrWait(res, payloadChunk(data)),
    signal: abort.signal,
  };
  let result;
  try {
    result = await invoker.invoke(body, { tail, requestId, stream });
  } catch (e) {
    if (!res.headersSent) {
      return error(res, context, name, 500, "ServiceException", (e as Error).message, "Service");
    }
    res.destroy();
    return context.record({ name, status: 200, requestId, error: (e as Error).message });
  }
  if (abort.signal.aborted) {
    return context.record({ name, status: 200, requestId, error: "the caller went away" });
  }
  begin("application/json");
  // A function that does not stream sends its result as one chunk.
  if (!result.functionError && !result.streamed) await writeOrWait(res, payloadChunk(result.payload));
  const failure = result.functionError ? lambdaErrorOf(result.payload) : undefined;
  res.end(
    invokeComplete({
      ...(failure ? { errorCode: failure.errorType, errorDetails: failure.errorMessage } : {}),
      ...(tail ? { logResult: Buffer.from(result.logTail ?? "").toString("base64") } : {}),
    }),
  );
  context.record({ name, status: 200, requestId, functionError: result.functionError });
}

function lambdaErrorOf(payload: Buffer): LambdaError {
  try {
    const parsed = JSON.parse(payload.toString("utf8")) as Partial<LambdaError>;
    return {
      errorType: String(parsed.errorType ?? "Unhandled"),
      errorMessage: String(parsed.errorMessage ?? ""),
      trace: Array.isArray(parsed.trace) ? parsed.trace : [],
    };
  } catch {
    return { errorType: "Unhandled", errorMessage: payload.toString("utf8"), trace: [] };
  }
}
