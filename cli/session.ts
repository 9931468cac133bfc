import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import {
  PROTOCOL_VERSION,
  Reassembler,
  encodeMessage,
  localEnvironment,
  stackTopics,
  type Message,
  type PresenceMessage,
  type RequestMessage,
  type StackTopics,
} from "../protocol";
import { internalError } from "../core/lambda-error";
import type { MqttConnection } from "./mqtt-connection";
import { runInvocation } from "./run-invocation";
import type { ServedInvocation } from "./served-invocation";
import type { ServedFunction, SessionOptions } from "./session-types";

export type { InvocationRecorderHook, ServedInvocation } from "./served-invocation";
export type { Runner, ServedFunction, SessionEvents, SessionOptions } from "./session-types";

/** How long a request may run before it is acknowledged separately from its response (ms). */
export const ACK_DELAY_MS = 25;

/** Answers larger than this are not kept for duplicates: a duplicate of such a request is re-acked. */
const MAX_KEPT_ANSWER_BYTES = 256 * 1024;

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

interface Seen {
  expires: number;
  /** Set once answered: a duplicate delivery gets the same answer again. */
  answer?: Message;
}

/**
 * One serving session: announces itself by retained presence, receives requests, runs each exactly once
 * (duplicates are re-acknowledged or re-answered), and sends acks and responses to the stub's topic.
 */
export class Session {
  readonly sessionId = randomBytes(6).toString("hex");
  readonly startedAt = Date.now();
  readonly topics: StackTopics;
  private connection?: MqttConnection;
  private readonly reassembler: Reassembler;
  private readonly byId = new Map<string, ServedFunction>();
  private readonly environments = new Map<string, Record<string, string>>();
  private readonly seen = new Map<string, Seen>();
  private readonly inflight = new Set<Promise<void>>();
  private closing?: Promise<void>;
  private takenOver = false;
  private lastPrune = 0;
  /** The worker environment per function environment hash: reading process.env is slow. */
  private readonly localEnvironments = new Map<string, Record<string, string>>();
  /** Frames dropped before they became messages, and requests dropped after. */
  readonly counters = { expired: 0, foreign: 0, duplicate: 0, handled: 0, elsewhere: 0, redirected: 0 };

  constructor(private readonly options: SessionOptions) {
    this.topics = stackTopics(options.prefix);
    this.reassembler = new Reassembler(options.key);
    for (const fn of options.functions) this.byId.set(fn.functionId, fn);
  }

  get drops() {
    return { ...this.reassembler.drops, ...this.counters };
  }

  private presence(online: boolean, draining = false): PresenceMessage {
    return {
      type: "presence",
      sessionId: this.sessionId,
      online,
      ...(draining ? { draining } : {}),
      protocol: PROTOCOL_VERSION,
      functions: online ? [...this.byId.keys()] : [],
      startedAt: this.startedAt,
      host: hostname(),
      pid: process.pid,
    };
  }

  private sealPresence(online: boolean, draining = false): Buffer {
    // Presence always fits one frame: a few hundred bytes.
    return encodeMessage(this.options.key, this.topics.presence, this.presence(online, draining))[0];
  }

  async start(): Promise<void> {
    const will = { topic: this.topics.presence, payload: this.sealPresence(false), retain: true };
    const connection = await this.options.connect(will, this.sessionId);
    this.connection = connection;
    // QoS 0: see MqttConnection.subscribe. The stub publishes with QoS 1 and its ack timeout covers a loss.
    await connection.subscribe(
      this.topics.requests,
      (topic, payload) => this.onRequestFrame(topic, payload),
      true,
    );
    await connection.subscribe(
      this.topics.presence,
      (topic, payload, retain) => this.onPresence(topic, payload, retain),
      true,
    );
    await connection.publish(this.topics.presence, this.sealPresence(true), true);
  }

  private onPresence(topic: string, payload: Buffer, retain: boolean): void {
    const message = payload.length === 0 ? undefined : new Reassembler(this.options.key).push(topic, payload);
    if (payload.length > 0 && message?.type !== "presence") {
      // Not sealed with this stack's key (an old key after live was toggled, say): not ours to answer,
      // and answering it would start two sessions re-announcing to each other.
      this.counters.foreign++;
      return;
    }
    if (message?.type === "presence" && message.sessionId === this.sessionId) return;
    if (message?.type === "presence" && message.online) {
      // Retained means it was there before this session subscribed: an older session, which this one
      // replaces. A live publish comes from a session started after this one: it takes over. Arrival
      // order decides, not clocks that may differ between machines.
      if (!retain && !this.takenOver) {
        this.takenOver = true;
        this.options.events.takeover({ sessionId: message.sessionId, host: message.host });
      }
      return;
    }
    // Presence cleared (empty, or another session's offline message: its exit or its last will after this
    // one took over). While serving, announce this session again so stubs keep finding it.
    if (this.closing || this.takenOver || !this.connection) return;
    this.connection.publish(this.topics.presence, this.sealPresence(true), true).catch(() => undefined);
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
      const work = this.onRequest(message).catch((error) => {
        try {
          this.options.events.status({ message: `request ${message.requestId} failed: ${String(error)}` });
        } catch {
          // the reporter failing too must not become an unhandled rejection
        }
      });
      this.inflight.add(work);
      void work.finally(() => this.inflight.delete(work));
    } catch (error) {
      this.options.events.drop({ reason: "unreadable", detail: String(error), topic });
    }
  }

  /** Publishes a message's frames in order; resolves with the bytes sent. */
  private async send(topic: string, message: Message): Promise<number> {
    const connection = this.connection;
    if (!connection) return 0;
    let bytes = 0;
    for (const frame of encodeMessage(this.options.key, topic, message)) {
      await connection.publish(topic, frame);
      bytes += frame.length;
    }
    return bytes;
  }

  /** Forgets answers past their dedupe window; at most once a second, as the map can be large. */
  private prune(now: number): void {
    if (now - this.lastPrune < 1000) return;
    this.lastPrune = now;
    for (const [id, entry] of this.seen) if (entry.expires < now) this.seen.delete(id);
  }

  private workerEnvironment(envHash: string, env: Record<string, string>): Record<string, string> {
    let local = this.localEnvironments.get(envHash);
    if (!local) {
      local = localEnvironment(process.env, env);
      remember(this.localEnvironments, envHash, local);
    }
    return local;
  }

  private async onRequest(request: RequestMessage): Promise<void> {
    const now = Date.now();
    this.prune(now);
    const fn = this.byId.get(request.functionId);
    if (!fn || !request.responseTopic.startsWith(`${this.topics.prefix}/res/`)) {
      this.counters.foreign++;
      this.options.events.drop({
        reason: "unknown-function",
        detail: fn
          ? `a request whose response topic is not this stack's: ${request.responseTopic}`
          : `a request for "${request.functionId}", which this session does not serve`,
        functionId: request.functionId,
        function: fn?.name,
        requestId: request.requestId,
      });
      return;
    }
    if (request.deadline <= now) {
      // A late delivery or a replayed capture: executing it would serve nobody.
      this.counters.expired++;
      this.options.events.drop({
        reason: "expired",
        detail: `request ${request.requestId} arrived after its deadline`,
        functionId: request.functionId,
        function: fn.name,
        requestId: request.requestId,
      });
      return;
    }
    if (request.sessionId && request.sessionId !== this.sessionId) {
      // Addressed to another session of the stack (around a takeover both are subscribed): not ours.
      this.counters.elsewhere++;
      return;
    }
    const ack = { type: "ack", requestId: request.requestId, sessionId: this.sessionId } as const;
    const previous = this.seen.get(request.requestId);
    if (previous) {
      this.counters.duplicate++;
      await this.send(request.responseTopic, previous.answer ?? ack);
      return;
    }
    if (this.closing || this.takenOver) {
      // Not run here: the stub sends it to the session online now, or fails it as having none.
      this.counters.redirected++;
      await this.send(request.responseTopic, { ...ack, redirect: true });
      return;
    }
    if (request.environment) remember(this.environments, request.envHash, request.environment);
    const environment = this.environments.get(request.envHash);
    if (!environment) {
      await this.send(request.responseTopic, { ...ack, needEnvironment: true });
      return;
    }
    const entry: Seen = { expires: Math.max(request.deadline, now) + (this.options.dedupeMs ?? 60_000) };
    this.seen.set(request.requestId, entry);
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
    let served: ServedInvocation;
    try {
      served = await runInvocation({
        fn,
        request,
        environment,
        workerEnvironment: () => this.workerEnvironment(request.envHash, environment),
        runner: this.options.runner,
        events: this.options.events,
      });
    } catch (error) {
      // A failure of the session itself still answers, so the caller does not wait for its timeout.
      entry.answer = { type: "error", requestId: request.requestId, ...internalError(error) };
      await this.send(request.responseTopic, entry.answer);
      return;
    } finally {
      clearTimeout(ackTimer);
    }
    const answer: Message = served.outcome.ok
      ? { type: "response", requestId: request.requestId, result: served.outcome.result }
      : { type: "error", requestId: request.requestId, ...served.outcome.error };
    if (served.logs) answer.logs = served.logs;
    entry.answer = answer;
    this.counters.handled++;
    const bytes = await this.send(request.responseTopic, answer);
    // A duplicate comes within seconds (QoS 1 redelivery): keep answers for the dedupe window from now,
    // not from the deadline (a debugging liveTimeout can be 15 minutes), and only small ones.
    entry.expires = Math.min(entry.expires, Date.now() + (this.options.dedupeMs ?? 60_000));
    if (bytes > MAX_KEPT_ANSWER_BYTES) entry.answer = undefined;
    served.timings.received = now;
    served.timings.returned = Date.now();
    this.recordServed(served);
  }

  private recordServed(served: ServedInvocation): void {
    try {
      this.options.recorder?.record(served);
    } catch (error) {
      this.options.events.status({ message: `could not record ${served.requestId}: ${String(error)}` });
    }
  }

  /** Clears presence, lets in-flight requests answer, disconnects. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const connection = this.connection;
      if (!connection) return;
      // Draining first: stubs stop sending (they fail fast or run their fallback) while the requests
      // under way still get their answers.
      if (this.inflight.size > 0) {
        await connection
          .publish(this.topics.presence, this.sealPresence(true, true), true)
          .catch(() => undefined);
      }
      // In-flight requests get a few seconds to answer (one held in a debugger would wait forever);
      // those still running then fail when the worker pool closes.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inflight]),
        new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
      ]);
      clearTimeout(timer);
      await connection.publish(this.topics.presence, this.sealPresence(false), true).catch(() => undefined);
      await connection.close();
    })();
    return this.closing;
  }
}
