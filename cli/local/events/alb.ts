/**
 * Application Load Balancer Lambda targets, both ways. Documented at
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html: query
 * parameters that are URL-encoded are passed on without decoding; without multi-value headers (the target
 * group's default) the last of repeated headers and query keys is sent, with them every value is, in
 * `multiValueHeaders` and `multiValueQueryStringParameters`; a binary body is base64-encoded; a response
 * needs `statusCode`, and with multi-value headers on only its `multiValueHeaders` count. Live captures
 * (hotsock/voker, vokerhttp/testdata/alb-request.json, July 2026) show the path kept percent-encoded and
 * header names lowercased.
 */
import type { ALBEvent } from "aws-lambda";
import {
  eventBody,
  headerPairs,
  isRecord,
  lastValues,
  multiValues,
  rawQueryPairs,
  resultBody,
  resultHeaders,
  validStatus,
  type HttpRequest,
  type HttpResponse,
} from "./http-request";

export interface AlbOptions {
  /** The target group's `lambda.multi_value_headers.enabled`. @default false */
  multiValue?: boolean;
  /** @default a local target group's ARN */
  targetGroupArn?: string;
}

/** The event an ALB target group sends, as @types/aws-lambda has it. */
export type AlbEvent = ALBEvent;

export function toAlbEvent(request: HttpRequest, options: AlbOptions = {}): AlbEvent {
  const pairs = headerPairs(request).map(([name, value]): [string, string] => [name.toLowerCase(), value]);
  const query = rawQueryPairs(request.rawQueryString);
  const contentType = pairs.findLast(([name]) => name === "content-type")?.[1];
  const encoded = pairs.some(([name]) => name === "content-encoding");
  const { body, base64 } =
    request.body.length === 0
      ? { body: "", base64: false }
      : encoded
        ? { body: request.body.toString("base64"), base64: true }
        : eventBody(request.body, contentType);
  const region = request.region ?? "us-east-1";
  const account = request.accountId ?? "000000000000";
  return {
    requestContext: {
      elb: {
        targetGroupArn:
          options.targetGroupArn ??
          `arn:aws:elasticloadbalancing:${region}:${account}:targetgroup/local/0000000000000000`,
      },
    },
    httpMethod: request.method.toUpperCase(),
    path: request.path === "" ? "/" : request.path,
    ...(options.multiValue
      ? {
          multiValueQueryStringParameters: Object.fromEntries(multiValues(query)),
          multiValueHeaders: Object.fromEntries(multiValues(pairs)),
        }
      : { queryStringParameters: lastValues(query), headers: lastValues(pairs) }),
    body,
    isBase64Encoded: base64,
  };
}

export function fromAlbResult(result: unknown, options: AlbOptions = {}): HttpResponse {
  if (!isRecord(result) || !validStatus(result.statusCode)) return albError();
  const headers = new Map<string, string | string[]>();
  if (options.multiValue) {
    if (isRecord(result.multiValueHeaders)) {
      for (const [name, values] of Object.entries(result.multiValueHeaders)) {
        if (Array.isArray(values)) headers.set(name.toLowerCase(), values.map(String));
      }
    }
  } else {
    for (const [name, value] of resultHeaders(result.headers, true)) headers.set(name, value);
  }
  return {
    statusCode: result.statusCode,
    headers: Object.fromEntries(headers),
    body: resultBody(result.body, result.isBase64Encoded),
  };
}

/** What an ALB answers when its Lambda target fails or returns a malformed response. */
export function albError(): HttpResponse {
  return {
    statusCode: 502,
    headers: { "content-type": "text/html" },
    body: Buffer.from(
      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
    ),
  };
}
