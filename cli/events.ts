/**
 * What `serve` tells its user, as typed events: the session's (an invocation, its result, a dropped
 * message, a status change, a takeover) and the server's (ready, builds, logs, errors). The reporters
 * turn them into lines for people or NDJSON; nothing downstream reads meaning out of message text.
 */
import type { LambdaError } from "../core/lambda-error";

export interface InvokeEvent {
  name: string;
  requestId: string;
  envId: string;
  /** The event's size as Lambda counts it: bytes of its JSON in UTF-8. */
  bytes: number;
}

export interface ResultEvent {
  name: string;
  requestId: string;
  durationMs: number;
  coldStart: boolean;
  error?: LambdaError;
}

/** Why a message was dropped before it reached a handler. */
export type DropReason =
  /** A frame that did not open or parse (another key, a torn chunk); see `detail`. */
  | "unreadable"
  /** A message that is not a request on a request topic. */
  | "unexpected-message"
  /** A request for a function this session does not serve, or with a foreign response topic. */
  | "unknown-function"
  /** A request that arrived after its deadline (a late delivery, or a replayed capture). */
  | "expired";

export interface DropEvent {
  reason: DropReason;
  /** What happened, for people. */
  detail: string;
  /** The MQTT topic the message came on. */
  topic?: string;
  /** The function id the request named. */
  functionId?: string;
  /** The served function's name, when the session serves it. */
  function?: string;
  requestId?: string;
}

/** A change of the MQTT connection: to AWS IoT (serve) or to a plain broker (serve --local). */
export interface ConnectionEvent {
  kind: "connection";
  target: "AWS IoT" | "broker";
  /** Which of a session's connections (`2/8`), when it spreads over several. */
  connection?: string;
  /** Lost (aws-crt reconnects with backoff), back, or a failure that did not end the connection. */
  state: "interrupted" | "resumed" | "failed";
  detail?: string;
}

/** Something the user should know that is not an invocation: a failed record, a deadline passed, ... */
export interface NoticeEvent {
  kind?: "notice";
  message: string;
}

export type StatusEvent = ConnectionEvent | NoticeEvent;

/** A status event as one line of text (the NDJSON `message`, and the human line). */
export function statusMessage(e: StatusEvent): string {
  if (e.kind !== "connection") return e.message;
  return `${e.target} connection${e.connection ? ` ${e.connection}` : ""} ${e.state}${e.detail ? `: ${e.detail}` : ""}`;
}

export interface TakeoverEvent {
  sessionId: string;
  host?: string;
}

export interface ReadyFunction {
  name: string;
  handler: string;
  /** Local mode: `/{name}/` on the gateway, and the front door its events imitate there. */
  url?: string;
  httpSource?: string;
  /** What the program attaches to it, and how to call each. */
  triggers?: ReadyTrigger[];
}

/** One trigger of a locally served function. */
export type ReadyTrigger =
  | { kind: "http"; source: string; url: string }
  | { kind: "http-api"; api: string; route: string; url: string }
  | {
      kind: "sqs";
      queue: string;
      queueUrl: string;
      batchSize: number;
      reportBatchItemFailures: boolean;
      enabled?: false;
    }
  | { kind: "schedule"; rule: string; expression: string; next?: string; fire: string };

export interface ReadyEvent {
  gateway?: string;
  broker?: string;
  mode: "local" | "aws";
  /** Local mode reading a Pulumi program: its entry file and stack. */
  program?: { main: string; stack: string };
  functions: ReadyFunction[];
  /** The debugger's WebSocket URL, when debugging. */
  inspector?: string;
}

export interface BuildEvent {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: string;
  /** The first build of the function (while starting). */
  first: boolean;
}

export interface LogEvent {
  name: string;
  requestId: string;
  stream: "stdout" | "stderr";
  line: string;
}

/** A failure of serve itself that it survives (a part that failed to close, ...). */
export interface ErrorEvent {
  message: string;
}
