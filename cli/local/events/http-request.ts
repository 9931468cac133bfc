/**
 * What every HTTP front door of Lambda (HTTP API, function URL, REST API, ALB) starts from: the request as
 * the local gateway received it, and the small rules they share. Every map built from a client's names
 * (headers, query keys) goes through a `Map` and `Object.fromEntries`, so names such as `constructor`,
 * `toString` or `__proto__` are ordinary keys, never inherited members.
 */

/** An HTTP request as the gateway received it. */
export interface HttpRequest {
  method: string;
  /** The path after the gateway's `/{name}` prefix, still percent-encoded ("" means "/"). */
  path: string;
  /** Everything after `?`, as received ("" when none). */
  rawQueryString: string;
  /** Node's `req.rawHeaders`: names and values alternating, as received. */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
  /** The front door's own request id (not the Lambda awsRequestId). */
  requestId: string;
  time: Date;
  /** @default "HTTP/1.1" */
  protocol?: string;
  /** The port the request arrived on, as `x-forwarded-port`. @default 443 */
  port?: number;
  /** `x-amzn-trace-id`, which every front door adds. @default a fresh one */
  traceId?: string;
  /** @default "000000000000" */
  accountId?: string;
  /** @default "us-east-1" */
  region?: string;
}

/** The HTTP response to send; `set-cookie` (or any header) may hold several values. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export type HeaderPair = [name: string, value: string];

/** Header pairs as received, then the ones AWS's front doors add when the client did not send them. */
export function headerPairs(request: HttpRequest): HeaderPair[] {
  const pairs: HeaderPair[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    pairs.push([request.rawHeaders[i], request.rawHeaders[i + 1]]);
  }
  const has = new Set(pairs.map(([name]) => name.toLowerCase()));
  // Every front door adds these (see the captures in hotsock/voker vokerhttp/testdata, July 2026).
  const added: HeaderPair[] = [
    ["x-amzn-trace-id", request.traceId ?? traceId(request.time)],
    ["x-forwarded-for", request.sourceIp],
    ["x-forwarded-port", String(request.port ?? 443)],
    ["x-forwarded-proto", "http"],
  ];
  for (const pair of added) if (!has.has(pair[0])) pairs.push(pair);
  return pairs;
}

/** Names lowercased, repeated names joined by `separator` (payload format 2.0 and function URLs use ","). */
export function joinedHeaders(pairs: HeaderPair[], separator = ","): Record<string, string> {
  const map = new Map<string, string>();
  for (const [rawName, value] of pairs) {
    const name = rawName.toLowerCase();
    const before = map.get(name);
    map.set(name, before === undefined ? value : `${before}${name === "cookie" ? "; " : separator}${value}`);
  }
  return Object.fromEntries(map);
}

/** Each value of each name, in order (REST `multiValueHeaders`, ALB with multi-value headers on). */
export function multiValues(pairs: Array<[string, string]>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    const list = map.get(name);
    if (list) list.push(value);
    else map.set(name, [value]);
  }
  return map;
}

/** The last value of each name (REST `headers` and `queryStringParameters`, ALB without multi-value). */
export function lastValues(pairs: Array<[string, string]>): Record<string, string> {
  return Object.fromEntries(new Map(pairs));
}

/** `a=1&b&c=x%20y` → [["a","1"],["b",""],["c","x%20y"]]: still encoded, empty pieces skipped. */
export function rawQueryPairs(raw: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const piece of raw.split("&")) {
    if (piece === "") continue;
    const at = piece.indexOf("=");
    pairs.push(at < 0 ? [piece, ""] : [piece.slice(0, at), piece.slice(at + 1)]);
  }
  return pairs;
}

/** Query pairs decoded as a form: `+` is a space, escapes decoded; a malformed escape stays as sent. */
export function decodedQueryPairs(raw: string): Array<[string, string]> {
  return rawQueryPairs(raw).map(([key, value]) => [decodeForm(key), decodeForm(value)]);
}

function decodeForm(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

/** One level of percent-decoding, or undefined when an escape is malformed. */
export function decodeOnce(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Bodies with these content types reach the handler as text; anything else is base64-encoded. */
const TEXT_TYPE = /^(text\/[^;]*|application\/(json|javascript|xml|[^;]*\+json|[^;]*\+xml))\s*(;|$)/i;

export function isTextContent(contentType: string | undefined): boolean {
  return TEXT_TYPE.test(contentType ?? "");
}

/** The body as the event carries it: text for text content types, base64 otherwise. */
export function eventBody(body: Buffer, contentType: string | undefined): { body: string; base64: boolean } {
  const text = isTextContent(contentType);
  return { body: body.toString(text ? "utf8" : "base64"), base64: !text };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's request time. */
export function apiGatewayTime(time: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  const date = `${pad(time.getUTCDate())}/${MONTHS[time.getUTCMonth()]}/${time.getUTCFullYear()}`;
  return `${date}:${pad(time.getUTCHours())}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())} +0000`;
}

/** `Root=1-<epoch seconds, hex>-<24 hex digits>`, X-Ray's trace header. */
export function traceId(time: Date): string {
  const seconds = Math.floor(time.getTime() / 1000).toString(16);
  const random = Array.from({ length: 24 }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  return `Root=1-${seconds}-${random}`;
}

/** A JSON body with the `message` field API Gateway's own answers carry. */
export function messageResponse(statusCode: number, message: string): HttpResponse {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: Buffer.from(JSON.stringify({ message })),
  };
}

/** A handler's `headers` object: names lowercased, null and undefined dropped, values as text. */
export function resultHeaders(value: unknown, lowercase: boolean): Map<string, string> {
  const map = new Map<string, string>();
  if (!value || typeof value !== "object") return map;
  for (const [name, v] of Object.entries(value)) {
    if (v !== null && v !== undefined) map.set(lowercase ? name.toLowerCase() : name, String(v));
  }
  return map;
}

/** The body a handler returned: text, or base64 when it says so. */
export function resultBody(body: unknown, base64: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body !== "string") return Buffer.from(JSON.stringify(body));
  return Buffer.from(body, base64 === true ? "base64" : "utf8");
}

/** Whether `status` is an HTTP status code a front door passes on. */
export function validStatus(status: unknown): status is number {
  return typeof status === "number" && Number.isInteger(status) && status >= 100 && status <= 599;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
