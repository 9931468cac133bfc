/**
 * A plain HTTP request to a streaming function, answered as a function URL in `RESPONSE_STREAM` invoke
 * mode answers it (https://docs.aws.amazon.com/lambda/latest/dg/config-rs-invoke-furls.html): the
 * status, headers and cookies of the prelude `awslambda.HttpResponseStream.from` wrote (JSON, then 8 NUL
 * bytes), then the body, chunked, as the handler writes it. A stream without a prelude is the body of a
 * 200 with the stream's content type. A function that fails before its first byte is a 502; one that
 * fails later cuts the connection, as the response is already under way. A caller that goes away stops
 * the function's stream.
 */
import type { ServerResponse } from "node:http";
import { HTTP_INTEGRATION_CONTENT_TYPE, PRELUDE_DELIMITER_BYTES } from "../../core/response-stream";
import type { StreamConsumer } from "../../core/stream-channel";
import { functionUrlError, toFunctionUrlEvent } from "./events/function-url";
import type { HttpRequest } from "./events/http-request";
import type { HttpOutcome } from "./http-front";
import { send } from "./http-io";
import type { Invoker } from "./invoker";
import { writeOrWait } from "./stream-writes";

/** How far into the stream the prelude must end (API Gateway documents 16 KB for its own). */
const MAX_PRELUDE_BYTES = 16 * 1024;

interface Prelude {
  statusCode?: unknown;
  headers?: unknown;
  multiValueHeaders?: unknown;
  cookies?: unknown;
}

/** The response headers a prelude declares, in Node's form (`set-cookie` as a list). */
export function preludeHeaders(prelude: Prelude): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  if (prelude.multiValueHeaders && typeof prelude.multiValueHeaders === "object") {
    for (const [name, values] of Object.entries(prelude.multiValueHeaders)) {
      if (Array.isArray(values)) headers[name.toLowerCase()] = values.map(String).join(", ");
    }
  }
  if (prelude.headers && typeof prelude.headers === "object") {
    for (const [name, value] of Object.entries(prelude.headers)) headers[name.toLowerCase()] = String(value);
  }
  if (Array.isArray(prelude.cookies) && prelude.cookies.length > 0) {
    headers["set-cookie"] = prelude.cookies.map(String);
  }
  return headers;
}

export async function serveStreamingFunction(
  res: ServerResponse,
  request: HttpRequest,
  invoker: Invoker,
): Promise<HttpOutcome> {
  const extra = { "x-amzn-requestid": request.requestId };
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  let pending: Buffer[] | undefined;
  let pendingBytes = 0;
  let malformed = false;
  const head = (status: number, headers: Record<string, string | string[]>): void => {
    if (!res.headersSent) res.writeHead(status, { ...headers, ...extra });
  };
  /** Gathers the prelude; once its delimiter came, answers with it and passes on what followed. */
  const preludeBytes = async (data: Buffer): Promise<void> => {
    pending!.push(data);
    pendingBytes += data.length;
    const joined = Buffer.concat(pending!, pendingBytes);
    const at = joined.indexOf(Buffer.alloc(PRELUDE_DELIMITER_BYTES));
    if (at < 0) {
      if (pendingBytes > MAX_PRELUDE_BYTES) {
        malformed = true;
        abort.abort();
      }
      return;
    }
    pending = undefined;
    let prelude: Prelude;
    try {
      prelude = JSON.parse(joined.subarray(0, at).toString("utf8")) as Prelude;
    } catch {
      malformed = true;
      abort.abort();
      return;
    }
    const status = Number(prelude.statusCode ?? 200);
    head(Number.isInteger(status) && status >= 100 && status < 600 ? status : 200, preludeHeaders(prelude));
    const rest = joined.subarray(at + PRELUDE_DELIMITER_BYTES);
    if (rest.length > 0) await writeOrWait(res, rest);
  };
  const stream: StreamConsumer = {
    start: (contentType) => {
      if (contentType === HTTP_INTEGRATION_CONTENT_TYPE) pending = [];
      else head(200, { "content-type": contentType });
    },
    write: (data) => (pending ? preludeBytes(data) : writeOrWait(res, data)),
    signal: abort.signal,
  };
  const event = toFunctionUrlEvent(request, { requestId: request.requestId });
  const result = await invoker.invoke(Buffer.from(JSON.stringify(event)), { tail: false, stream });
  const outcome = { requestId: result.requestId, functionError: result.functionError };
  if (res.destroyed || (abort.signal.aborted && !malformed)) {
    return { status: res.statusCode, ...outcome, error: "the caller went away" };
  }
  if (result.functionError || malformed || (pending && pendingBytes > 0)) {
    if (res.headersSent) {
      // Already under way: the caller sees the body cut short, as from a function URL.
      res.destroy();
      return { status: res.statusCode, ...outcome, error: "failed mid-stream" };
    }
    const failed = functionUrlError();
    send(res, failed.statusCode, { ...failed.headers, ...extra }, failed.body);
    return { status: failed.statusCode, ...outcome, ...(malformed ? { error: "malformed prelude" } : {}) };
  }
  head(200, { "content-type": "application/json" });
  res.end();
  return { status: res.statusCode, ...outcome };
}
