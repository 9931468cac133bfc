import { randomBytes } from "node:crypto";
import {
  clientId,
  environmentHash,
  functionEnvironment,
  stackTopics,
  type DropCounts,
  type PresenceMessage,
  type RequestMessage,
} from "../protocol";
import { credentialsFromEnv, type StubConfig } from "./config";
import { Connection } from "./connection";
import { exchange, type ResponseStreamLike } from "./exchange";
import { loadFallback, runHandler, runStreamingFallback, type LambdaHandler } from "./fallback";
import { STREAM_WINDOW } from "./stream-state";
import { httpEventKind, unavailableResponse, type HttpErrorResponse } from "./http-event";
import { invocationContext, type LambdaContext } from "./lambda-context";
import { RelayError } from "./relay-error";
import { presignIotUrl } from "./sigv4";
import { fromLambdaError } from "../core/lambda-error";

export interface RelayOptions {
  /** This execution environment's id; random (12 hex digits) by default. */
  envId?: string;
  /** Folder `PULUMI_LIVE_FALLBACK` is relative to: the stub bundle's own. */
  baseDir?: string;
  /** Where the function's environment and AWS credentials are read; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /** Wait for the retained presence after subscribing, when none came with the SUBACKs (ms). */
  presenceGraceMs?: number;
  /** Longest wait for the connection before an invocation fails (ms). */
  connectTimeoutMs?: number;
  /** Renew a connection idle this long before relaying on it (ms); see `ConnectionOptions.staleAfterMs`. */
  staleAfterMs?: number;
  /** Clock for the staleness check; injectable for tests. */
  now?: () => number;
  /** Prints the local handler's log tail; `console.log` by default, so it lands in the function's logs. */
  log?: (text: string) => void;
}

/** The relay of one execution environment. */
export interface Relay {
  readonly envId: string;
  /** The MQTT connection, for diagnostics: the session's presence and its changes. */
  readonly connection: Connection;
  /** Frames dropped on the stub's topics (not sealed with the key, damaged...), for diagnostics. */
  readonly drops: DropCounts;
  /** Relays one invocation; resolves with the local handler's result or rejects with its error. */
  handle(event: unknown, context: LambdaContext): Promise<unknown>;
  /**
   * Relays one invocation of a streaming function: the local handler's stream is written to
   * `responseStream` as it comes; rejects with the handler's error, which Lambda reports after the bytes.
   */
  handleStream(event: unknown, responseStream: ResponseStreamLike, context: LambdaContext): Promise<void>;
  close(): Promise<void>;
}

/** Time kept back from the remote deadline, so the local handler's result still has time to travel. */
const DEADLINE_MARGIN_MS = 300;
const RESPONSE_MARGIN_MS = 100;
const CONNECT_TIMEOUT_MS = 5000;

/** The message for an invocation that no session serves: it names the stack and what to run. */
export function noSessionMessage(stack: string, functionId: string, presence?: PresenceMessage): string {
  if (presence) {
    return (
      `The pulumi-live session serving stack "${stack}" does not serve function ${functionId}. ` +
      `Restart it in your project folder so it picks the function up: npx pulumi-live serve`
    );
  }
  return (
    `No pulumi-live session is serving stack "${stack}" (function ${functionId}). ` +
    `Start one in your project folder: npx pulumi-live serve`
  );
}

/**
 * Creates the relay of one execution environment: it connects at once and stays connected while warm.
 * Invocations travel to the serving session; with none, the fallback runs or the invocation fails at once.
 */
export function createRelay(config: StubConfig, options: RelayOptions = {}): Relay {
  const env = options.env ?? process.env;
  const envId = options.envId ?? randomBytes(6).toString("hex");
  const log = options.log ?? ((text: string) => console.log(text));
  const topics = stackTopics(config.prefix);
  const requestTopic = topics.request(config.functionId);
  const responseTopic = topics.response(config.functionId, envId);
  const broker = config.broker;
  const connection = new Connection({
    url: () =>
      broker.kind === "url"
        ? broker.url
        : presignIotUrl({
            endpoint: broker.endpoint,
            region: broker.region,
            credentials: credentialsFromEnv(env),
          }),
    target: broker.kind === "url" ? `the MQTT broker at ${broker.url}` : `AWS IoT Core at ${broker.endpoint}`,
    clientId: clientId(config.clientPrefix, envId),
    password: broker.kind === "url" ? broker.password : undefined,
    pace: broker.kind === "iot",
    key: config.key,
    presenceTopic: topics.presence,
    responseTopic,
    presenceGraceMs: options.presenceGraceMs,
    staleAfterMs: options.staleAfterMs,
    now: options.now,
  });
  /** The session and environment hash this environment last delivered its environment to. */
  let delivered: { sessionId: string; hash: string } | undefined;

  const serves = (presence: PresenceMessage): boolean =>
    presence.functions.length === 0 || presence.functions.includes(config.functionId);

  // Reading process.env is slow (each variable is a lookup in the C environment) and a Lambda
  // environment's variables do not change while it lives: read them at most once a second.
  let cached: { at: number; environment: Record<string, string>; envHash: string } | undefined;
  const currentEnvironment = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 1000) {
      const environment = functionEnvironment(env);
      cached = { at: now, environment, envHash: environmentHash(environment) };
    }
    return cached;
  };

  async function relay(
    event: unknown,
    context: LambdaContext,
    stream?: ResponseStreamLike,
  ): Promise<unknown> {
    const started = Date.now();
    const remaining = context.getRemainingTimeInMillis();
    await connection.whenReady(Math.min(options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, remaining - 200));
    const presence = connection.presence;
    if (!presence || presence.draining || !serves(presence)) {
      // A draining session is stopping: as good as none for a new request.
      const known = presence?.draining ? undefined : presence;
      throw new RelayError("NoSession", noSessionMessage(config.stack, config.functionId, known));
    }
    const { environment, envHash } = currentEnvironment();
    const request: RequestMessage = {
      type: "request",
      requestId: context.awsRequestId,
      functionId: config.functionId,
      envId,
      responseTopic,
      deadline: started + remaining - DEADLINE_MARGIN_MS,
      event,
      context: invocationContext(context),
      sessionId: presence.sessionId,
      envHash,
    };
    if (delivered?.sessionId !== presence.sessionId || delivered.hash !== envHash) {
      request.environment = environment;
    }
    if (stream) request.stream = { window: STREAM_WINDOW };
    const outcome = await exchange({
      connection,
      key: config.key,
      topic: requestTopic,
      request,
      environment,
      sessionId: presence.sessionId,
      ackTimeoutMs: config.ackTimeoutMs,
      responseBy: started + remaining - RESPONSE_MARGIN_MS,
      stack: config.stack,
      functionId: config.functionId,
      onEnvironmentDelivered: (sessionId) => (delivered = { sessionId, hash: envHash }),
      noSession: () => new RelayError("NoSession", noSessionMessage(config.stack, config.functionId)),
      ...(stream ? { stream } : {}),
    });
    if (outcome.logs) log(outcome.logs.replace(/\n$/, ""));
    if (outcome.type === "error") throw fromLambdaError(outcome);
    if (outcome.type === "stream-end") {
      if (outcome.error) throw fromLambdaError(outcome.error);
      return undefined;
    }
    // A handler that does not stream answers a streaming function with its result, as JSON.
    if (stream) await writeJson(stream, outcome.result);
    return outcome.result;
  }

  async function handle(event: unknown, context: LambdaContext): Promise<unknown> {
    // The MQTT connection keeps the event loop busy by design; Lambda must not wait for it to drain.
    context.callbackWaitsForEmptyEventLoop = false;
    try {
      return await relay(event, context);
    } catch (error) {
      if (!(error instanceof RelayError)) throw error;
      // A session named by the presence that does not acknowledge is as good as none: it may be a replayed
      // capture of an old presence, or gone without its last will yet.
      const unreachable =
        error.code === "NoSession" || error.code === "NoConnection" || error.code === "NoAck";
      if (!unreachable || !config.fallback) return relayFailure(event, error);
      let fallback: LambdaHandler;
      try {
        fallback = await loadFallback(options.baseDir ?? __dirname, config.fallback);
      } catch (loadError) {
        if (loadError instanceof RelayError) return relayFailure(event, loadError);
        throw loadError;
      }
      log(
        `[pulumi-live] ${error.name}: running the deployed handler ${config.fallback} instead (${error.message})`,
      );
      // Its errors are the function's own: thrown as they are.
      return runHandler(fallback, event, context);
    }
  }

  async function handleStream(
    event: unknown,
    responseStream: ResponseStreamLike,
    context: LambdaContext,
  ): Promise<void> {
    context.callbackWaitsForEmptyEventLoop = false;
    // Once anything reached the caller, a failure can only end the stream with the error.
    let touched = false;
    const stream: ResponseStreamLike = {
      setContentType: (type) => ((touched = true), responseStream.setContentType(type)),
      write: (chunk, done) => ((touched = true), responseStream.write(chunk, done)),
      end: (done) => ((touched = true), responseStream.end(done)),
      on: (name, listener) => responseStream.on(name, listener),
      removeListener: (name, listener) => responseStream.removeListener(name, listener),
    };
    try {
      await relay(event, context, stream);
    } catch (error) {
      if (!(error instanceof RelayError) || touched) throw error;
      const unreachable =
        error.code === "NoSession" || error.code === "NoConnection" || error.code === "NoAck";
      if (!unreachable || !config.fallback) return relayFailureStream(event, error, responseStream);
      let fallback: LambdaHandler;
      try {
        fallback = await loadFallback(options.baseDir ?? __dirname, config.fallback);
      } catch (loadError) {
        if (loadError instanceof RelayError) return relayFailureStream(event, loadError, responseStream);
        throw loadError;
      }
      log(
        `[pulumi-live] ${error.name}: running the deployed handler ${config.fallback} instead (${error.message})`,
      );
      await runStreamingFallback(fallback, event, responseStream, context);
    }
  }

  return {
    envId,
    connection,
    drops: connection.drops,
    handle,
    handleStream,
    close: () => connection.close(),
  };
}

/** Writes a result as JSON and ends the stream. */
function writeJson(stream: ResponseStreamLike, result: unknown): Promise<void> {
  stream.setContentType("application/json");
  const json = JSON.stringify(result === undefined ? null : result);
  return new Promise((resolve, reject) => {
    stream.write(Buffer.from(json), (error) => (error ? reject(error) : stream.end(() => resolve())));
  });
}

/** {@link relayFailure} for a streaming stub: the 503 goes out as an HTTP stream's prelude and body. */
export async function relayFailureStream(
  event: unknown,
  error: RelayError,
  responseStream: ResponseStreamLike,
): Promise<void> {
  const response = relayFailure(event, error) as { statusCode: number; headers: unknown; body: string };
  const awslambda = (globalThis as unknown as { awslambda?: AwsLambdaLike }).awslambda;
  if (!awslambda) throw error;
  const http = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: response.statusCode,
    headers: response.headers,
  });
  await new Promise<void>((resolve, reject) => {
    http.write(Buffer.from(response.body), (writeError) =>
      writeError ? reject(writeError) : http.end(() => resolve()),
    );
  });
}

/** The part of Lambda's `awslambda` global the stub uses. */
interface AwsLambdaLike {
  HttpResponseStream: { from(stream: ResponseStreamLike, prelude: unknown): ResponseStreamLike };
}

/**
 * How a relay failure reaches the caller: HTTP-shaped events get a 503 that says only that (a thrown
 * error would become an opaque 502), with the message in the function's log; every other event gets the
 * error thrown, so retries and DLQs apply.
 */
export function relayFailure(event: unknown, error: RelayError): HttpErrorResponse {
  const kind = httpEventKind(event);
  if (!kind) throw error;
  console.error(`[pulumi-live] ${error.name}: ${error.message}`);
  return unavailableResponse(kind, event);
}
