/**
 * API Gateway HTTP API, payload format 2.0, both ways: the event a Lambda proxy integration receives and
 * the HTTP response API Gateway makes of the function's result. Pure functions.
 *
 * Documented at https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * What the page leaves out is taken from live captures (hotsock/voker, vokerhttp/testdata, July 2026):
 * HTTP APIs deliver `rawPath` and `requestContext.http.path` percent-decoded — twice, cutting at a `?`
 * that the first decoding produced, and answering 400 when the second decoding fails — while function
 * URLs, REST APIs and ALB keep the path as sent; a `cookie` header becomes the `cookies` list and leaves
 * `headers`; repeated headers and query keys are joined with commas; `+` in the query is a space.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import {
  apiGatewayTime,
  decodeOnce,
  decodedQueryPairs,
  eventBody,
  headerPairs,
  isRecord,
  joinedHeaders,
  messageResponse,
  resultBody,
  resultHeaders,
  validStatus,
  type HttpRequest,
  type HttpResponse,
} from "./http-request";

/** The route an HTTP API matched (`$default` when it has no routes of its own). */
export interface HttpApiRoute {
  /** `GET /items/{id}`, `ANY /{proxy+}` or `$default`. */
  routeKey: string;
  pathParameters?: Record<string, string>;
  /** @default "local" */
  apiId?: string;
}

/** The event a Lambda proxy integration receives (payload format 2.0), as @types/aws-lambda has it. */
export type HttpApiEvent = APIGatewayProxyEventV2;

/** An event to send, or the answer the front door gives without calling the function. */
export type EventOrAnswer<E> = { event: E } | { answer: HttpResponse };

/**
 * The path as an HTTP API hands it to the function and matches routes on, from the path as sent
 * (percent-encoded): decoded, cut at a decoded `?`, decoded again. Undefined when API Gateway rejects it.
 */
export function httpApiPath(sent: string): string | undefined {
  const once = decodeOnce(sent === "" ? "/" : sent);
  if (once === undefined) return undefined;
  const question = once.indexOf("?");
  return decodeOnce(question < 0 ? once : once.slice(0, question));
}

/** Builds the payload format 2.0 event API Gateway would send for this request. */
export function toHttpApiEvent(
  request: HttpRequest,
  route: HttpApiRoute = { routeKey: "$default" },
): EventOrAnswer<HttpApiEvent> {
  const path = httpApiPath(request.path);
  if (path === undefined) return { answer: messageResponse(400, "Bad Request") };
  const pairs = headerPairs(request);
  const cookies = pairs
    .filter(([name]) => name.toLowerCase() === "cookie")
    .flatMap(([, value]) => value.split(";"))
    .map((cookie) => cookie.trim())
    .filter((cookie) => cookie !== "");
  const headers = joinedHeaders(pairs.filter(([name]) => name.toLowerCase() !== "cookie"));
  const query = commaJoined(decodedQueryPairs(request.rawQueryString));
  const domainName = (headers.host ?? "localhost").replace(/:\d+$/, "");
  const event: HttpApiEvent = {
    version: "2.0",
    routeKey: route.routeKey,
    rawPath: path,
    rawQueryString: request.rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    ...(route.pathParameters && Object.keys(route.pathParameters).length > 0
      ? { pathParameters: route.pathParameters }
      : {}),
    requestContext: {
      accountId: request.accountId ?? "000000000000",
      apiId: route.apiId ?? "local",
      domainName,
      domainPrefix: domainName.split(".")[0],
      http: {
        method: request.method.toUpperCase(),
        path,
        protocol: request.protocol ?? "HTTP/1.1",
        sourceIp: request.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: request.requestId,
      routeKey: route.routeKey,
      stage: "$default",
      time: apiGatewayTime(request.time),
      timeEpoch: request.time.getTime(),
    },
    isBase64Encoded: false,
  };
  if (request.body.length > 0) {
    const { body, base64 } = eventBody(request.body, headers["content-type"]);
    event.body = body;
    event.isBase64Encoded = base64;
  }
  return { event };
}

/** Repeated keys joined by commas, as format 2.0 does; undefined when there are none. */
export function commaJoined(pairs: Array<[string, string]>): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const map = new Map<string, string>();
  for (const [key, value] of pairs) {
    const before = map.get(key);
    map.set(key, before === undefined ? value : `${before},${value}`);
  }
  return Object.fromEntries(map);
}

/**
 * Maps a function's result to the HTTP response, inferring the format as format 2.0 does: a result
 * without `statusCode` is a 200 JSON body; a malformed one is answered `malformed()`.
 */
export function fromPayloadV2Result(
  result: unknown,
  malformed: () => HttpResponse = internalServerError,
): HttpResponse {
  if (!isRecord(result) || !("statusCode" in result)) {
    const body = typeof result === "string" ? result : JSON.stringify(result);
    return { statusCode: 200, headers: { "content-type": "application/json" }, body: Buffer.from(body) };
  }
  if (!validStatus(result.statusCode)) return malformed();
  const headers: Record<string, string | string[]> = Object.fromEntries(resultHeaders(result.headers, true));
  if (Array.isArray(result.cookies) && result.cookies.length > 0) {
    const existing = headers["set-cookie"];
    headers["set-cookie"] = [
      ...(existing === undefined ? [] : [existing].flat()),
      ...result.cookies.map(String),
    ];
  }
  headers["content-type"] ??= "application/json";
  return { statusCode: result.statusCode, headers, body: resultBody(result.body, result.isBase64Encoded) };
}

/** What an HTTP API answers when the integration fails or returns a malformed response. */
export function internalServerError(): HttpResponse {
  return messageResponse(500, "Internal Server Error");
}
