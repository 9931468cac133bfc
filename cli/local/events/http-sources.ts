/**
 * The HTTP front doors a local function's requests may imitate, one place that maps a request to each
 * one's event and each one's answer back: `http-api` (API Gateway HTTP API, payload 2.0, the default),
 * `function-url`, `rest-api` (API Gateway REST API, payload 1.0) and `alb` (`alb-multi` with multi-value
 * headers on the target group).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { fromAlbResult, albError, toAlbEvent } from "./alb";
import { fromFunctionUrlResult, functionUrlError, toFunctionUrlEvent } from "./function-url";
import { fromPayloadV2Result, internalServerError, toHttpApiEvent, type EventOrAnswer } from "./http-api";
import type { HttpRequest, HttpResponse } from "./http-request";
import { fromRestApiResult, restApiError, toRestApiEvent } from "./rest-api";

export const HTTP_SOURCES = ["http-api", "function-url", "rest-api", "alb", "alb-multi"] as const;
export type HttpSource = (typeof HTTP_SOURCES)[number];

export function isHttpSource(text: string): text is HttpSource {
  return (HTTP_SOURCES as readonly string[]).includes(text);
}

/** How one front door turns requests into events and results into responses. */
export interface HttpFrontDoor {
  toEvent(request: HttpRequest): EventOrAnswer<object>;
  /** The response for the function's result (JSON-parsed). */
  fromResult(result: unknown): HttpResponse;
  /** The response when the function failed, or answered something that is not JSON. */
  failed(): HttpResponse;
  /** A request id in the front door's own form (API Gateway's short ids, UUIDs). */
  newRequestId(): string;
  /** Headers the front door adds to every response it sends. */
  responseHeaders(request: HttpRequest): Record<string, string>;
}

export function frontDoor(source: HttpSource): HttpFrontDoor {
  switch (source) {
    case "http-api":
      return {
        toEvent: (request) => toHttpApiEvent(request),
        fromResult: (result) => fromPayloadV2Result(result),
        failed: internalServerError,
        newRequestId: shortId,
        responseHeaders: (request) => ({ "apigw-requestid": request.requestId }),
      };
    case "function-url": {
      return {
        toEvent: (request) => ({ event: toFunctionUrlEvent(request, { requestId: request.requestId }) }),
        fromResult: fromFunctionUrlResult,
        failed: functionUrlError,
        newRequestId: randomUUID,
        responseHeaders: (request) => ({ "x-amzn-requestid": request.requestId }),
      };
    }
    case "rest-api":
      return {
        toEvent: (request) => toRestApiEvent(request),
        fromResult: (result) => fromRestApiResult(result),
        failed: restApiError,
        newRequestId: randomUUID,
        responseHeaders: (request) => ({ "x-amzn-requestid": request.requestId }),
      };
    case "alb":
    case "alb-multi": {
      const multiValue = source === "alb-multi";
      return {
        toEvent: (request) => ({ event: toAlbEvent(request, { multiValue }) }),
        fromResult: (result) => fromAlbResult(result, { multiValue }),
        failed: albError,
        newRequestId: randomUUID,
        responseHeaders: () => ({}),
      };
    }
  }
}

/** API Gateway's own request ids look like `JKJaXmPLvHcESHA=`. */
export function shortId(): string {
  return randomBytes(10).toString("base64");
}
