/** The messages that travel between the relay stub and a serving session. */

/**
 * 2: per-stack namespaces (organization and a random id), presence ordered by `epoch`. Streams (issue 13)
 * added message types without a bump: a peer that does not know a type code drops its frames unread, and
 * an older session answers a request that offers a stream with a buffered response, which a streaming
 * stub still writes out.
 */
export const PROTOCOL_VERSION = 2;

/** Message type codes as they appear in a frame header. */
export const MessageTypeCode = {
  request: 1,
  ack: 2,
  response: 3,
  error: 4,
  presence: 5,
  "stream-start": 6,
  "stream-chunk": 7,
  "stream-end": 8,
  "stream-credit": 9,
  "stream-cancel": 10,
} as const;
export type MessageType = keyof typeof MessageTypeCode;

/** What the local handler's `context` is built from (the stub copies it from its own context). */
export interface InvocationContext {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  identity?: unknown;
  clientContext?: unknown;
}

export interface RequestMessage {
  type: "request";
  /** The remote awsRequestId; also the key for exactly-once handling. */
  requestId: string;
  functionId: string;
  /** The stub's execution environment id: one local worker serves one remote environment. */
  envId: string;
  /** Where the ack and the response go. */
  responseTopic: string;
  /**
   * Absolute deadline, epoch milliseconds: past it the request is dropped unexecuted. With `requestId` it
   * names the invocation for exactly-once handling: Lambda's retry of an invocation keeps the request id
   * but gets a new deadline, and is a new invocation.
   */
  deadline: number;
  event: unknown;
  context: InvocationContext;
  /** The session the stub found online: only that session runs the request (takeovers run nothing twice). */
  sessionId?: string;
  /** Hash of the function's environment; the environment itself travels when first sent or changed. */
  envHash: string;
  environment?: Record<string, string>;
  /**
   * Set by a stub that is itself a streaming handler (`awslambda.streamifyResponse`): the answer may come
   * as a stream (`stream-*` messages) instead of one response.
   */
  stream?: StreamOffer;
}

/** What a streaming stub accepts: how many stream messages may be on their way before it grants more. */
export interface StreamOffer {
  /** Stream messages (`seq`) the session may send beyond the last one the stub granted; at least 1. */
  window: number;
}

export interface AckMessage {
  type: "ack";
  requestId: string;
  sessionId: string;
  /** Set when the session does not know the environment named by `envHash`: resend with it. */
  needEnvironment?: boolean;
  /**
   * Set when the session no longer takes requests (it is closing, or a newer one took over) and did not
   * run this one: send it to the session online now.
   */
  redirect?: boolean;
}

export interface ResponseMessage {
  type: "response";
  requestId: string;
  result: unknown;
  /** The tail of the handler's logs, so the stub can print them where Lambda keeps logs. */
  logs?: string;
}

/** Lambda's error shape. */
export interface ErrorMessage {
  type: "error";
  requestId: string;
  errorType: string;
  errorMessage: string;
  trace: string[];
  logs?: string;
}

export interface PresenceMessage {
  type: "presence";
  sessionId: string;
  /**
   * Orders sessions: the newer session has the greater `(epoch, sessionId)`. A session takes the greater
   * of its clock and one past every epoch it has seen on the presence topic, so a session started while
   * another is announced is newer whatever the two machines' clocks say.
   */
  epoch: number;
  online: boolean;
  /** Online but stopping: it answers what it started and takes nothing new. */
  draining?: boolean;
  protocol: number;
  functions: string[];
  startedAt: number;
  host?: string;
  pid?: number;
}

/*
 * A streamed answer, session → stub on the stub's response topic. Its messages are numbered by `seq`:
 * `stream-start` is 0, each `stream-chunk` the next, `stream-end` the last. IoT Core does not promise
 * order, so the stub writes them out by `seq`, holding at most a window's worth that came early; a copy
 * of one already written is dropped. The session sends `seq` n only once the stub has granted it
 * (`stream-credit`): that bounds what either side holds, whatever the handler writes.
 */

/** The stream begins (it acknowledges the request too). */
export interface StreamStartMessage {
  type: "stream-start";
  requestId: string;
  sessionId: string;
  seq: 0;
  /**
   * The stream's content type, as the handler set it before its first write (`setContentType`, or
   * `application/vnd.awslambda.http-integration-response` by `awslambda.HttpResponseStream.from`, whose
   * prelude and 8-byte NUL delimiter then travel as the first bytes of the stream, exactly as written).
   */
  contentType: string;
}

/** Bytes the handler wrote, in one publish: one frame whose body carries them raw (see `frame.ts`). */
export interface StreamChunkMessage {
  type: "stream-chunk";
  requestId: string;
  seq: number;
  data: Buffer;
}

/** The stream ended: the handler ended it, or failed (`error`, as Lambda reports it mid-stream). */
export interface StreamEndMessage {
  type: "stream-end";
  requestId: string;
  seq: number;
  /** Bytes the stream carried in all, so the stub can tell a complete stream from one that lost bytes. */
  bytes: number;
  error?: { errorType: string; errorMessage: string; trace: string[] };
  /** The tail of the handler's logs. */
  logs?: string;
}

/**
 * Stub → session, on the request topic: every stream message up to `seq` is written to the stub's own
 * response stream; the session may send up to `seq + window`.
 */
export interface StreamCreditMessage {
  type: "stream-credit";
  requestId: string;
  functionId: string;
  envId: string;
  seq: number;
}

/** Stub → session, on the request topic: the caller went away; the handler's stream is stopped. */
export interface StreamCancelMessage {
  type: "stream-cancel";
  requestId: string;
  functionId: string;
  envId: string;
  reason: string;
}

export type StreamMessage = StreamStartMessage | StreamChunkMessage | StreamEndMessage;

export type Message =
  | RequestMessage
  | AckMessage
  | ResponseMessage
  | ErrorMessage
  | PresenceMessage
  | StreamMessage
  | StreamCreditMessage
  | StreamCancelMessage;
