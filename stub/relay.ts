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
import { exchange } from "./exchange";
import { loadFallback, runHandler, type LambdaHandler } from "./fallback";
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

  async function relay(event: unknown, context: LambdaContext): Promise<unknown> {
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
    });
    if (outcome.logs) log(outcome.logs.replace(/\n$/, ""));
    if (outcome.type === "error") throw fromLambdaError(outcome);
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

  return { envId, connection, drops: connection.drops, handle, close: () => connection.close() };
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
