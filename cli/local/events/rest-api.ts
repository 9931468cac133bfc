/**
 * API Gateway REST API Lambda proxy integrations (payload format 1.0), both ways. Documented at
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 * (input and output formats) and .../lambda/latest/dg/services-apigateway-errors.html (502 with
 * `{"message": "Internal server error"}` for a failed or malformed result). Live captures (hotsock/voker,
 * vokerhttp/testdata/apigwv1-request.json, July 2026) add: `path` and `pathParameters` stay
 * percent-encoded, query values are form-decoded, `headers` and `queryStringParameters` hold the last of
 * repeated values while the `multiValue…` maps hold all, header names keep the case they were sent in,
 * and `requestContext.path` carries the stage.
 *
 * HTTP APIs can send this format too (payloadFormatVersion "1.0"); they add `version: "1.0"` and decode
 * the path as they do for format 2.0.
 */
import { httpApiPath, type EventOrAnswer } from "./http-api";
import {
  apiGatewayTime,
  decodedQueryPairs,
  headerPairs,
  isRecord,
  lastValues,
  messageResponse,
  multiValues,
  resultBody,
  resultHeaders,
  validStatus,
  type HttpRequest,
  type HttpResponse,
} from "./http-request";

export interface RestApiRoute {
  /** The matched resource, e.g. `/{proxy+}` or `/items/{id}`. @default "/{proxy+}" */
  resource?: string;
  /** @default `{ proxy: <path without its leading slash> }` for `/{proxy+}`, else none */
  pathParameters?: Record<string, string> | null;
  /** @default "local" */
  stage?: string;
  /** @default "local" */
  apiId?: string;
  /** An HTTP API sending payload format 1.0: `version: "1.0"` and a decoded path. */
  httpApi?: boolean;
}

export type RestApiEvent = Record<string, unknown> & { path: string; httpMethod: string };

export function toRestApiEvent(request: HttpRequest, route: RestApiRoute = {}): EventOrAnswer<RestApiEvent> {
  const sent = request.path === "" ? "/" : request.path;
  const path = route.httpApi ? httpApiPath(sent) : sent;
  if (path === undefined) return { answer: messageResponse(400, "Bad Request") };
  const stage = route.stage ?? (route.httpApi ? "$default" : "local");
  const resource = route.resource ?? "/{proxy+}";
  const pairs = headerPairs(request);
  const query = decodedQueryPairs(request.rawQueryString);
  const headerValue = (name: string) => pairs.findLast(([n]) => n.toLowerCase() === name)?.[1];
  const pathParameters =
    route.pathParameters !== undefined
      ? route.pathParameters
      : resource === "/{proxy+}"
        ? { proxy: path.slice(1) }
        : null;
  const domainName = (headerValue("host") ?? "localhost").replace(/:\d+$/, "");
  const event: RestApiEvent = {
    ...(route.httpApi ? { version: "1.0" } : {}),
    resource,
    path,
    httpMethod: request.method.toUpperCase(),
    headers: lastValues(pairs),
    multiValueHeaders: Object.fromEntries(multiValues(pairs)),
    queryStringParameters: query.length > 0 ? lastValues(query) : null,
    multiValueQueryStringParameters: query.length > 0 ? Object.fromEntries(multiValues(query)) : null,
    pathParameters,
    stageVariables: null,
    requestContext: {
      accountId: request.accountId ?? "000000000000",
      apiId: route.apiId ?? "local",
      domainName,
      domainPrefix: domainName.split(".")[0],
      extendedRequestId: request.requestId,
      httpMethod: request.method.toUpperCase(),
      identity: {
        accessKey: null,
        accountId: null,
        caller: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent: headerValue("user-agent") ?? "",
        userArn: null,
      },
      path: stage === "$default" ? path : `/${stage}${path}`,
      protocol: request.protocol ?? "HTTP/1.1",
      requestId: request.requestId,
      requestTime: apiGatewayTime(request.time),
      requestTimeEpoch: request.time.getTime(),
      resourceId: "local",
      resourcePath: resource,
      stage,
    },
    // Without binary media types configured, a REST API passes every body as text.
    body: request.body.length > 0 ? request.body.toString("utf8") : null,
    isBase64Encoded: false,
  };
  return { event };
}

/** The response API Gateway makes of a proxy integration's result (REST: 502 when malformed). */
export function fromRestApiResult(
  result: unknown,
  malformed: () => HttpResponse = restApiError,
): HttpResponse {
  if (!isRecord(result)) return malformed();
  const status = typeof result.statusCode === "string" ? Number(result.statusCode) : result.statusCode;
  if (!validStatus(status)) return malformed();
  if (result.body !== undefined && result.body !== null && typeof result.body !== "string")
    return malformed();
  const headers = new Map<string, string | string[]>();
  for (const [name, value] of resultHeaders(result.headers, false)) headers.set(name, value);
  // `multiValueHeaders` and `headers` are merged; values of both are kept.
  if (isRecord(result.multiValueHeaders)) {
    for (const [name, values] of Object.entries(result.multiValueHeaders)) {
      if (!Array.isArray(values)) continue;
      const before = headers.get(name);
      headers.set(name, [...(before === undefined ? [] : [before].flat()), ...values.map(String)]);
    }
  }
  if (![...headers.keys()].some((name) => name.toLowerCase() === "content-type"))
    headers.set("content-type", "application/json");
  return {
    statusCode: status,
    headers: Object.fromEntries(headers),
    body: resultBody(result.body, result.isBase64Encoded),
  };
}

/** What a REST API answers when the function fails or its result is malformed. */
export function restApiError(): HttpResponse {
  return messageResponse(502, "Internal server error");
}
