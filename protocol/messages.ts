/** The messages that travel between the relay stub and a serving session. */

/** 2: per-stack namespaces (organization and a random id), presence ordered by `epoch`. */
export const PROTOCOL_VERSION = 2;

/** Message type codes as they appear in a frame header. */
export const MessageTypeCode = {
  request: 1,
  ack: 2,
  response: 3,
  error: 4,
  presence: 5,
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

export type Message = RequestMessage | AckMessage | ResponseMessage | ErrorMessage | PresenceMessage;
