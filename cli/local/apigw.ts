/**
 * API Gateway HTTP API (payload format 2.0) mapping, both ways: a plain HTTP request becomes the event a
 * Lambda proxy integration receives, and the function's result becomes the HTTP response API Gateway
 * would send. Pure functions.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** An HTTP request as the gateway received it. */
export interface HttpRequest {
  method: string;
  /** The path after the function's `/{name}` prefix, still percent-encoded ("" means "/"). */
  path: string;
  /** Everything after `?`, as received ("" when none). */
  rawQueryString: string;
  /** Node's `req.rawHeaders`: names and values alternating, as received. */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
  /** API Gateway's own request id (not the Lambda awsRequestId). */
  requestId: string;
  time: Date;
  /** @default "HTTP/1.1" */
  protocol?: string;
  /** @default "local" */
  apiId?: string;
  /** @default "000000000000" */
  accountId?: string;
}

/** The event a Lambda proxy integration receives (payload format 2.0, `$default` route). */
export type HttpApiEvent = APIGatewayProxyEventV2;

/** The HTTP response to send; `set-cookie` may hold several values. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** Bodies with these content types reach the handler as text; anything else is base64-encoded. */
const TEXT_TYPE = /^(text\/[^;]*|application\/(json|javascript|xml|[^;]*\+json|[^;]*\+xml))\s*(;|$)/i;

/** Builds the payload format 2.0 event API Gateway would send for this request. */
export function toHttpApiEvent(request: HttpRequest): HttpApiEvent {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i].toLowerCase();
    const value = request.rawHeaders[i + 1];
    // Cookies travel in their own field, one entry per cookie.
    if (name === "cookie")
      cookies.push(
        ...value
          .split(";")
          .map((c) => c.trim())
          .filter((c) => c !== ""),
      );
    else headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const domainName = (headers.host ?? "localhost").replace(/:\d+$/, "");
  const rawPath = request.path === "" ? "/" : request.path;
  const query = queryParameters(request.rawQueryString);
  const event: HttpApiEvent = {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: request.rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: request.accountId ?? "000000000000",
      apiId: request.apiId ?? "local",
      domainName,
      domainPrefix: domainName.split(".")[0],
      http: {
        method: request.method.toUpperCase(),
        path: rawPath,
        protocol: request.protocol ?? "HTTP/1.1",
        sourceIp: request.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: request.requestId,
      routeKey: "$default",
      stage: "$default",
      time: apiGatewayTime(request.time),
      timeEpoch: request.time.getTime(),
    },
    isBase64Encoded: false,
  };
  if (request.body.length > 0) {
    const text = TEXT_TYPE.test(headers["content-type"] ?? "");
    event.body = request.body.toString(text ? "utf8" : "base64");
    event.isBase64Encoded = !text;
  }
  return event;
}

/** Maps a function's result to the HTTP response, inferring the format as API Gateway does for 2.0. */
export function fromHttpApiResult(result: unknown): HttpResponse {
  if (result === null || typeof result !== "object" || Array.isArray(result) || !("statusCode" in result)) {
    const body = typeof result === "string" ? result : JSON.stringify(result);
    return { statusCode: 200, headers: { "content-type": "application/json" }, body: Buffer.from(body) };
  }
  const shaped = result as {
    statusCode: unknown;
    headers?: unknown;
    cookies?: unknown;
    body?: unknown;
    isBase64Encoded?: unknown;
  };
  const status = shaped.statusCode;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599)
    return internalServerError();
  const headers: Record<string, string | string[]> = {};
  if (shaped.headers && typeof shaped.headers === "object") {
    for (const [name, value] of Object.entries(shaped.headers)) {
      if (value !== null && value !== undefined) headers[name.toLowerCase()] = String(value);
    }
  }
  if (Array.isArray(shaped.cookies) && shaped.cookies.length > 0) {
    const existing = headers["set-cookie"];
    headers["set-cookie"] = [
      ...(existing === undefined ? [] : [existing].flat()),
      ...shaped.cookies.map(String),
    ];
  }
  headers["content-type"] ??= "application/json";
  const body = shaped.body;
  let bytes: Buffer;
  if (body === undefined || body === null) bytes = Buffer.alloc(0);
  else if (typeof body !== "string") bytes = Buffer.from(JSON.stringify(body));
  else bytes = Buffer.from(body, shaped.isBase64Encoded === true ? "base64" : "utf8");
  return { statusCode: status, headers, body: bytes };
}

/** What API Gateway answers when the integration fails or returns a malformed response. */
export function internalServerError(): HttpResponse {
  return {
    statusCode: 500,
    headers: { "content-type": "application/json" },
    body: Buffer.from(JSON.stringify({ message: "Internal Server Error" })),
  };
}

/** Repeated keys joined by commas, as format 2.0 does; undefined when the query is empty. */
function queryParameters(raw: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let any = false;
  for (const pair of raw.split("&")) {
    if (pair === "") continue;
    const at = pair.indexOf("=");
    const key = decode(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? "" : decode(pair.slice(at + 1));
    out[key] = key in out ? `${out[key]},${value}` : value;
    any = true;
  }
  return any ? out : undefined;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text; // A malformed escape reaches the handler as sent.
  }
}

/** `12/Mar/2020:19:03:58 +0000` */
function apiGatewayTime(time: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  const date = `${pad(time.getUTCDate())}/${MONTHS[time.getUTCMonth()]}/${time.getUTCFullYear()}`;
  return `${date}:${pad(time.getUTCHours())}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())} +0000`;
}
