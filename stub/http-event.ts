import type { ALBResult, APIGatewayProxyResult, APIGatewayProxyStructuredResultV2 } from "aws-lambda";

/** A response for one of the HTTP front doors (@types/aws-lambda's shapes). */
export type HttpErrorResponse = APIGatewayProxyStructuredResultV2 | APIGatewayProxyResult | ALBResult;

/** The HTTP front doors of Lambda whose events want an HTTP response rather than a thrown error. */
export type HttpEventKind = "http-api" | "rest-api" | "alb";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * Recognizes HTTP-shaped events: API Gateway HTTP API v2 and function URLs (`requestContext.http`),
 * REST API v1 (`httpMethod` with `requestContext`) and ALB (`requestContext.elb`).
 */
export function httpEventKind(event: unknown): HttpEventKind | undefined {
  if (!isObject(event) || !isObject(event.requestContext)) return undefined;
  const requestContext = event.requestContext;
  if (isObject(requestContext.elb)) return "alb";
  if (isObject(requestContext.http)) return "http-api";
  if (typeof event.httpMethod === "string") return "rest-api";
  return undefined;
}

/**
 * What an HTTP caller is told when the function cannot run: only that. The caller may be anyone on the
 * internet, so the details (the stack, the stub's variables, the IoT endpoint) go to the function's log.
 */
export const PUBLIC_UNAVAILABLE_MESSAGE = "Service Unavailable: the function is not being served";

/** A 503 in the shape the front door expects, with the public message as API Gateway's own errors carry one. */
export function unavailableResponse(kind: HttpEventKind, event: unknown): HttpErrorResponse {
  const body = JSON.stringify({ message: PUBLIC_UNAVAILABLE_MESSAGE });
  const contentType = "application/json";
  if (kind === "alb") {
    // With multi-value headers enabled on the target group, ALB ignores `headers` in the response.
    const multi = isObject(event) && isObject(event.multiValueHeaders);
    return {
      statusCode: 503,
      statusDescription: "503 Service Unavailable",
      ...(multi
        ? { multiValueHeaders: { "content-type": [contentType] } }
        : { headers: { "content-type": contentType } }),
      body,
      isBase64Encoded: false,
    };
  }
  return { statusCode: 503, headers: { "content-type": contentType }, body, isBase64Encoded: false };
}
