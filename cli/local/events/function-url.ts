/**
 * Lambda function URLs, both ways. The request payload follows payload format 2.0 with the differences
 * Lambda documents at https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html (routeKey and
 * stage are always `$default`, no path parameters, `accountId` is "anonymous" for auth type NONE) and
 * those live captures show (hotsock/voker, vokerhttp/testdata/functionurl-request.json, July 2026):
 * `rawPath` stays percent-encoded while `requestContext.http.path` is decoded once, the `cookie` header
 * stays in `headers` next to the `cookies` list, and the request id is a UUID.
 */
import { randomUUID } from "node:crypto";
import { commaJoined, fromPayloadV2Result, type HttpApiEvent } from "./http-api";
import {
  apiGatewayTime,
  decodeOnce,
  decodedQueryPairs,
  eventBody,
  headerPairs,
  joinedHeaders,
  type HttpRequest,
  type HttpResponse,
} from "./http-request";

/** A function URL's event: payload format 2.0's shape. */
export type FunctionUrlEvent = HttpApiEvent;

export interface FunctionUrlOptions {
  /** The URL id (the host's first label in AWS). @default "local" */
  urlId?: string;
  /** The request id Lambda gives the call. @default a random UUID */
  requestId?: string;
}

export function toFunctionUrlEvent(request: HttpRequest, options: FunctionUrlOptions = {}): FunctionUrlEvent {
  const rawPath = request.path === "" ? "/" : request.path;
  const pairs = headerPairs(request);
  const headers = joinedHeaders(pairs);
  const cookies = (headers.cookie ?? "")
    .split(";")
    .map((cookie) => cookie.trim())
    .filter((cookie) => cookie !== "");
  const query = commaJoined(decodedQueryPairs(request.rawQueryString));
  const domainName = (headers.host ?? "localhost").replace(/:\d+$/, "");
  const event: FunctionUrlEvent = {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: request.rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: "anonymous",
      apiId: options.urlId ?? "local",
      domainName,
      domainPrefix: domainName.split(".")[0],
      http: {
        method: request.method.toUpperCase(),
        path: decodeOnce(rawPath) ?? rawPath,
        protocol: request.protocol ?? "HTTP/1.1",
        sourceIp: request.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: options.requestId ?? randomUUID(),
      routeKey: "$default",
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
  return event;
}

/** The response a function URL makes of the result: format 2.0's inference; malformed is a 502. */
export function fromFunctionUrlResult(result: unknown): HttpResponse {
  return fromPayloadV2Result(result, functionUrlError);
}

/** What a function URL answers when the function fails or returns a malformed response. */
export function functionUrlError(): HttpResponse {
  return {
    statusCode: 502,
    headers: { "content-type": "text/plain" },
    body: Buffer.from("Internal Server Error"),
  };
}
