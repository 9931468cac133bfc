import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpFrontDoor } from "./events/http-sources";
import type { HttpRequest, HttpResponse } from "./events/http-request";
import { send } from "./http-io";
import type { Invoker } from "./invoker";

/** What one HTTP request to a function became, for the gateway's request log. */
export interface HttpOutcome {
  status: number;
  requestId?: string;
  functionError?: string;
  error?: string;
}

/** The HTTP request as every front door sees it, from what Node received. */
export function httpRequestOf(
  req: IncomingMessage,
  path: string,
  body: Buffer,
  requestId: string,
  port: number,
): HttpRequest {
  const url = req.url ?? "/";
  return {
    method: req.method ?? "GET",
    path,
    rawQueryString: url.includes("?") ? url.slice(url.indexOf("?") + 1) : "",
    rawHeaders: req.rawHeaders,
    body,
    sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
    protocol: `HTTP/${req.httpVersion}`,
    requestId,
    time: new Date(),
    port,
  };
}

/**
 * One HTTP request through a front door: its event, the invocation, and the response it makes of the
 * result — or the answer the front door gives by itself (a path it rejects, a failed function).
 */
export async function serveThroughFrontDoor(
  res: ServerResponse,
  request: HttpRequest,
  door: Pick<HttpFrontDoor, "fromResult" | "failed" | "responseHeaders">,
  built: { event: object } | { answer: HttpResponse },
  invoker: Invoker,
): Promise<HttpOutcome> {
  const extra = door.responseHeaders(request);
  if ("answer" in built) {
    const { statusCode, headers, body } = built.answer;
    send(res, statusCode, { ...headers, ...extra }, body);
    return { status: statusCode, error: "the front door rejected the request" };
  }
  const result = await invoker.invoke(Buffer.from(JSON.stringify(built.event)), { tail: false });
  const response = result.functionError ? door.failed() : parseResult(result.payload, door);
  send(res, response.statusCode, { ...response.headers, ...extra }, response.body);
  return { status: response.statusCode, requestId: result.requestId, functionError: result.functionError };
}

/** A result that is not JSON is a malformed integration response. */
function parseResult(payload: Buffer, door: Pick<HttpFrontDoor, "fromResult" | "failed">): HttpResponse {
  let result: unknown;
  try {
    result = JSON.parse(payload.toString("utf8"));
  } catch {
    return door.failed();
  }
  return door.fromResult(result);
}
