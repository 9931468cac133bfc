import { randomBytes } from "node:crypto";
import {
  Reassembler,
  encodeMessage,
  localEnvironment,
  stackTopics,
  type Message,
  type RequestMessage,
  type StackTopics,
} from "../protocol";
import { internalError } from "../core/lambda-error";
import type { SessionConnection } from "./spread-connection";
import { runInvocation } from "./run-invocation";
import type { ServedInvocation } from "./served-invocation";
import { PresenceKeeper } from "./presence-keeper";
import type { SessionPhase } from "./session-presence";
import { ExactlyOnce, classifyRequest } from "./session-requests";
import type { ServedFunction, SessionOptions } from "./session-types";

export type { InvocationRecorderHook, ServedInvocation } from "./served-invocation";
export type { Runner, ServedFunction, SessionEvents, SessionOptions } from "./session-types";

/** How long a request may run before it is acknowledged separately from its response (ms). */
export const ACK_DELAY_MS = 25;

/** How long close() waits for in-flight requests (ms). */
const CLOSE_GRACE_MS = 3000;

/** Environments kept per session: each remote environment sends its own, and credentials rotate. */
const MAX_ENVIRONMENTS = 256;

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  // Map order is insertion order: the first key is the least recently stored.
  if (map.size > MAX_ENVIRONMENTS) map.delete(map.keys().next().value!);
}

/**
 * One serving session: owns the stack by retained presence (see `session-presence.ts`), receives
 * requests, runs each exactly once (see `session-requests.ts`), and sends acks and responses to the
 * stub's topic.
 */
export class Session {
  readonly sessionId = randomBytes(6).toString("hex");
  readonly startedAt = Date.now();
  readonly topics: StackTopics;
  private connection?: SessionConnection;
  private readonly reassembler: Reassembler;
  private readonly byId = new Map<string, ServedFunction>();
  private readonly environments = new Map<string, Record<string, string>>();
  private readonly exactlyOnce: ExactlyOnce;
  private readonly inflight = new Set<Promise<void>>();
  private closing?: Promise<void>;
  private readonly keeper: PresenceKeeper;
  /** The worker environment per function environment hash: reading process.env is slow. */
  private readonly localEnvironments = new Map<string, Record<string, string>>();
  /** Requests dropped or answered without running, by why; presence repairs. */
  readonly counters = {
    expired: 0,
    foreign: 0,
    duplicate: 0,
    handled: 0,
    elsewhere: 0,
    redirected: 0,
  };

  constructor(private readonly options: SessionOptions) {
    this.topics = stackTopics(options.prefix);
    this.reassembler = new Reassembler(options.key);
    this.exactlyOnce = new ExactlyOnce({ answerMs: options.dedupeMs });
    for (const fn of options.functions) this.byId.set(fn.functionId, fn);
    this.keeper = new PresenceKeeper({
      sessionId: this.sessionId,
      startedAt: this.startedAt,
      key: options.key,
      topic: this.topics.presence,
      functions: [...this.byId.keys()],
      events: options.events,
      joinWaitMs: options.joinWaitMs,
      repairIntervalMs: options.repairIntervalMs,
      presenceCheckMs: options.presenceCheckMs,
    });
  }

  get drops() {
    const { repaired, garbage } = this.keeper.counters;
    // Unopenable presence payloads count as foreign frames, as they did before presence was kept apart.
    return {
      ...this.reassembler.drops,
      ...this.counters,
      foreign: this.counters.foreign + garbage,
      repaired,
    };
  }

  /** Where this session stands: joining, serving, taken over... (for status lines and tests). */
  get phase(): SessionPhase {
    return this.keeper.phase;
  }

  /** This session's place in the order of sessions (see `PresenceMessage.epoch`). */
  get epoch(): number {
    return this.keeper.epoch;
  }

  /** Memory held for incomplete requests (bytes, bookkeeping included). */
  get heldBytes(): number {
    return this.reassembler.heldBytes;
  }

  /** Invocations remembered for exactly-once handling, and bytes of answers kept for duplicates. */
  get remembered(): { invocations: number; answerBytes: number } {
    return { invocations: this.exactlyOnce.size, answerBytes: this.exactlyOnce.keptAnswerBytes };
  }

  /**
   * Connects, reads what the presence topic holds, then announces this session (see `PresenceKeeper`).
   */
  async start(): Promise<void> {
    const will = { topic: this.topics.presence, payload: this.keeper.seal(false), retain: true };
    const connection = await this.options.connect(will, this.sessionId);
    this.connection = connection;
    // QoS 0: see MqttConnection.subscribe. The stub publishes with QoS 1 and its ack timeout covers a loss.
    await connection.subscribe(
      this.topics.requests,
      (topic, payload) => this.onRequestFrame(topic, payload),
      true,
    );
    await this.keeper.join(connection);
  }

  private status(message: string): void {
    try {
      this.options.events.status({ message });
    } catch {
      // the reporter failing too must not become an unhandled rejection
    }
  }

  private onRequestFrame(topic: string, payload: Buffer): void {
    try {
      const message = this.reassembler.push(topic, payload);
      if (!message) return;
      if (message.type !== "request" || topic !== this.topics.request(message.functionId)) {
        this.counters.foreign++;
        this.options.events.drop({
          reason: "unexpected-message",
          detail: `a ${message.type} message on the request topic`,
          topic,
        });
        return;
      }
      const work = this.onRequest(message).catch((error) =>
        this.status(`request ${message.requestId} failed: ${String(error)}`),
      );
      this.inflight.add(work);
      void work.finally(() => this.inflight.delete(work));
    } catch (error) {
      this.options.events.drop({ reason: "unreadable", detail: String(error), topic });
    }
  }

  /** Publishes a message's frames in order. */
  private async send(topic: string, message: Message, frames?: Buffer[]): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    for (const frame of frames ?? encodeMessage(this.options.key, topic, message)) {
      await connection.publish(topic, frame);
    }
  }

  private workerEnvironment(envHash: string, env: Record<string, string>): Record<string, string> {
    let local = this.localEnvironments.get(envHash);
    if (!local) {
      local = localEnvironment(process.env, env);
      remember(this.localEnvironments, envHash, local);
    }
    return local;
  }

  private responseTopicOf(request: RequestMessage): string | undefined {
    try {
      return this.topics.response(String(request.functionId), String(request.envId));
    } catch {
      return undefined;
    }
  }

  private async onRequest(request: RequestMessage): Promise<void> {
    const now = Date.now();
    const fn = this.byId.get(request.functionId);
    if (request.environment) remember(this.environments, request.envHash, request.environment);
    const verdict = classifyRequest({
      request,
      now,
      sessionId: this.sessionId,
      serves: fn !== undefined,
      responseTopic: this.responseTopicOf(request) ?? "",
      accepting: !this.closing && this.keeper.owns,
      taken: this.exactlyOnce.get(request, now),
      environment: this.environments.get(request.envHash),
    });
    const ack = { type: "ack", requestId: request.requestId, sessionId: this.sessionId } as const;
    switch (verdict.kind) {
      case "foreign":
        this.counters.foreign++;
        this.options.events.drop({
          reason: "unknown-function",
          detail: verdict.reason,
          functionId: String(request.functionId),
          function: fn?.name,
          requestId: request.requestId,
        });
        return;
      case "expired":
        this.counters.expired++;
        this.options.events.drop({
          reason: "expired",
          detail: `request ${request.requestId} arrived after its deadline`,
          functionId: request.functionId,
          function: fn?.name,
          requestId: request.requestId,
        });
        return;
      case "elsewhere":
        this.counters.elsewhere++;
        return;
      case "duplicate":
        this.counters.duplicate++;
        await this.send(request.responseTopic, verdict.answer ?? ack);
        return;
      case "redirect":
        this.counters.redirected++;
        await this.send(request.responseTopic, { ...ack, redirect: true });
        return;
      case "need-environment":
        await this.send(request.responseTopic, { ...ack, needEnvironment: true });
        return;
      case "run":
        this.exactlyOnce.take(request);
        return this.run(fn!, request, verdict.environment, now);
    }
  }

  private async run(
    fn: ServedFunction,
    request: RequestMessage,
    environment: Record<string, string>,
    now: number,
  ): Promise<void> {
    const ack = { type: "ack", requestId: request.requestId, sessionId: this.sessionId } as const;
    // The ack waits a little: a handler that answers within ACK_DELAY_MS needs no ack (the response is
    // one), which saves a publish per invocation.
    const ackTimer = setTimeout(() => {
      this.send(request.responseTopic, ack).catch(() => undefined);
    }, ACK_DELAY_MS);
    this.options.events.invoke({
      name: fn.name,
      requestId: request.requestId,
      envId: request.envId,
      // Bytes, as Lambda counts its payload limit; a string's length counts UTF-16 units.
      bytes: Buffer.byteLength(JSON.stringify(request.event) ?? ""),
    });
    let answer: Message;
    let served: ServedInvocation | undefined;
    try {
      served = await runInvocation({
        fn,
        request,
        environment,
        workerEnvironment: () => this.workerEnvironment(request.envHash, environment),
        runner: this.options.runner,
        events: this.options.events,
      });
      answer = served.outcome.ok
        ? { type: "response", requestId: request.requestId, result: served.outcome.result }
        : { type: "error", requestId: request.requestId, ...served.outcome.error };
      if (served.logs) answer.logs = served.logs;
      this.counters.handled++;
    } catch (error) {
      // A failure of the session itself still answers, so the caller does not wait for its timeout.
      answer = { type: "error", requestId: request.requestId, ...internalError(error) };
    } finally {
      clearTimeout(ackTimer);
    }
    // Kept before it is sent: a duplicate can arrive while the answer is still being published.
    const frames = encodeMessage(this.options.key, request.responseTopic, answer);
    const bytes = frames.reduce((sum, frame) => sum + frame.length, 0);
    this.exactlyOnce.keepAnswer(request, answer, bytes, Date.now());
    await this.send(request.responseTopic, answer, frames);
    if (!served) return;
    served.timings.received = now;
    served.timings.returned = Date.now();
    this.recordServed(served);
  }

  private recordServed(served: ServedInvocation): void {
    try {
      this.options.recorder?.record(served);
    } catch (error) {
      this.status(`could not record ${served.requestId}: ${String(error)}`);
    }
  }

  /** Clears presence, lets in-flight requests answer, disconnects. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const connection = this.connection;
      if (!connection) return;
      // Draining first: stubs stop sending (they fail fast or run their fallback) while the requests
      // under way still get their answers. A session that was taken over publishes nothing: the presence
      // is the newer session's.
      this.keeper.stop(this.inflight.size > 0);
      // In-flight requests get a few seconds to answer (one held in a debugger would wait forever);
      // those still running then fail when the worker pool closes.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inflight]),
        new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
      ]);
      clearTimeout(timer);
      if (this.keeper.owns) {
        await connection.publish(this.topics.presence, this.keeper.seal(false), true).catch(() => undefined);
      }
      await connection.close();
    })();
    return this.closing;
  }
}
