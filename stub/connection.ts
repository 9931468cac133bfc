import WebSocket from "ws";
import MqttClient from "mqtt/lib/client";
import type { IStream } from "mqtt/lib/shared";
import {
  Pacer,
  Reassembler,
  nextKnownPresence,
  readPresence,
  sleep,
  type PresenceMessage,
} from "../protocol";
import { installedStubTransport, type StubTransport } from "../protocol/stub-transport";
import type { Reply } from "./exchange-state";
import { RelayError } from "./relay-error";
import { mqttWebSocketStream } from "./websocket-stream";

const KEEPALIVE_SECONDS = 60;

/** What arrives on a stub's response topic for its requests. */
const REPLY_TYPES: ReadonlySet<string> = new Set<Reply["type"]>([
  "ack",
  "response",
  "error",
  "stream-start",
  "stream-chunk",
  "stream-end",
]);

export type { Reply } from "./exchange-state";

export interface ConnectionOptions {
  /** The WebSocket URL, asked for on every (re)connect: IoT URLs are presigned afresh each time. */
  url: () => string;
  /** What the URL points at, for messages: "AWS IoT Core at xxxx-ats.iot...". */
  target: string;
  clientId: string;
  /** Local mode's embedded broker wants a password (user name `pulumi-live`). */
  password?: string;
  key: Buffer;
  presenceTopic: string;
  responseTopic: string;
  /** How long to wait for the retained presence after both SUBACKs when none came (ms). */
  presenceGraceMs?: number;
  /**
   * How long to wait for the session's repair when what the presence topic held could not be opened
   * (ms): a serving session replaces it within its repair interval (1 s).
   */
  presenceRepairWaitMs?: number;
  reconnectPeriodMs?: number;
  /**
   * A connection that sent nothing for this long was frozen with its execution environment (a live one
   * pings every keepalive) and may have been dropped by the broker meanwhile: it is renewed before use
   * rather than trusted (ms; 1.25 keepalive periods by default).
   */
  staleAfterMs?: number;
  /** Clock for the staleness check; injectable for tests. */
  now?: () => number;
  /**
   * Pace publishes to AWS IoT Core's per-connection quotas (a broker without quotas, as in local mode,
   * needs none). @default true
   */
  pace?: boolean;
  /** Where connection problems are reported; they never throw. */
  warn?: (message: string) => void;
}

/**
 * The stub's MQTT connection: opened once per execution environment and reused while it is warm.
 * It tracks the serving session's presence and routes replies to pending requests by request id.
 */
export class Connection {
  /** What the presence topic says, as far as this connection knows (see `nextKnownPresence`). */
  private known: PresenceMessage | undefined;
  /** The last connection or subscription error, to explain a failure. */
  lastError: Error | undefined;
  /** Successful connects so far, for diagnostics. */
  connects = 0;
  private readonly client: MqttClient;
  private readonly reassembler: Reassembler;
  private readonly replies = new Map<string, (reply: Reply) => void>();
  private readonly presenceListeners = new Set<() => void>();
  private readonly warn: (message: string) => void;
  private readonly graceMs: number;
  private readonly repairWaitMs: number;
  /** Settles once the current connection is subscribed and presence is known. */
  private ready: Promise<void> | undefined;
  private markReady!: () => void;
  private isReady = false;
  /** Presence frames or clears seen on the current connection. */
  private presenceSeen = false;
  /** Unopenable payloads seen on the presence topic of the current connection. */
  private garbageSeen = false;
  private presenceWaiter: ((garbage: boolean) => void) | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private lastSentAt = 0;
  private readonly now: () => number;
  private readonly staleAfterMs: number;
  private readonly pacer = new Pacer();
  /** serve --local's environment threads install one (see `StubTransport`); deployed Lambda never does. */
  private readonly transport: StubTransport | undefined = installedStubTransport();

  constructor(private readonly options: ConnectionOptions) {
    this.reassembler = new Reassembler(options.key);
    this.warn = options.warn ?? ((message) => console.error(`[pulumi-live] ${message}`));
    this.graceMs = options.presenceGraceMs ?? 150;
    this.repairWaitMs = options.presenceRepairWaitMs ?? 1500;
    this.now = options.now ?? Date.now;
    this.staleAfterMs = options.staleAfterMs ?? KEEPALIVE_SECONDS * 1250;
    this.resetReady();
    // The client from mqtt.js without its URL dispatcher: only WebSocket is used, and this keeps the
    // bundle free of TCP, TLS and SOCKS code paths.
    this.client = new MqttClient(() => this.openStream(), {
      protocolVersion: 4, // MQTT 3.1.1: what aedes and IoT Core both speak
      clientId: options.clientId,
      ...(options.password !== undefined ? { username: "pulumi-live", password: options.password } : {}),
      clean: true,
      keepalive: KEEPALIVE_SECONDS,
      reconnectPeriod: options.reconnectPeriodMs ?? 300,
      connectTimeout: 10_000,
      resubscribe: false, // subscribed again on every connect, below, so presence is re-read
      // mqtt-packet's cache of 65,536 pre-encoded packet ids costs ~50 ms on the first write of a cold start.
      writeCache: false,
      // A ping every keepalive whatever else is sent, instead of a timer cleared and set again on each
      // packet (a few percent of a busy environment's time); the broker's view of the link is the same.
      reschedulePings: false,
    });
    this.client.on("connect", () => void this.onConnect());
    this.client.on("close", () => this.resetReady());
    this.client.on("error", (error) => {
      this.lastError = error;
    });
    this.client.on("message", (topic, payload) => this.onMessage(topic, payload));
    this.client.on("packetsend", () => (this.lastSentAt = this.now()));
  }

  /** The session online (maybe draining), or undefined when none is (as of the last settled connection). */
  get presence(): PresenceMessage | undefined {
    return this.known?.online ? this.known : undefined;
  }

  /** Resolves once connected, subscribed and presence is known; bounded by `timeoutMs`. */
  async whenReady(timeoutMs: number): Promise<void> {
    if (this.isReady && this.now() - this.lastSentAt > this.staleAfterMs) this.renew();
    if (this.isReady) return;
    if (this.closed) throw new RelayError("NoConnection", "The relay stub's connection is closed.");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          const reason = this.lastError ? `: ${this.lastError.message}` : "";
          const message =
            `Could not connect to ${this.transport?.target ?? this.options.target} within ${timeoutMs} ms${reason}. Check that the ` +
            "function can reach it and that its role may connect, or redeploy it with `pulumi up`.";
          reject(new RelayError("NoConnection", message));
        },
        Math.max(0, timeoutMs),
      );
    });
    try {
      await Promise.race([this.ready!, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Registers the handler of one request's replies; returns its removal. */
  expect(requestId: string, onReply: (reply: Reply) => void): () => void {
    this.replies.set(requestId, onReply);
    return () => {
      if (this.replies.get(requestId) === onReply) this.replies.delete(requestId);
    };
  }

  /** Calls `listener` whenever the known presence changes; returns its removal. */
  onPresence(listener: () => void): () => void {
    this.presenceListeners.add(listener);
    return () => this.presenceListeners.delete(listener);
  }

  /**
   * Publishes frames in order with QoS 1, paced to IoT Core's per-connection quotas (a 5 MB request takes
   * about 10 s: IoT Core drops what goes faster); resolves when the broker acknowledged them all.
   */
  async publish(topic: string, frames: Buffer[]): Promise<void> {
    const acks: Promise<void>[] = [];
    for (const frame of frames) {
      if (this.options.pace !== false) await sleep(this.pacer.reserve(frame.length + topic.length));
      acks.push(
        new Promise<void>((resolve, reject) =>
          this.client.publish(topic, frame, { qos: 1 }, (error) => (error ? reject(error) : resolve())),
        ),
      );
    }
    await Promise.all(acks);
  }

  /** Frames dropped so far (not ours, damaged, duplicate chunks...). */
  get drops(): Reassembler["drops"] {
    return this.reassembler.drops;
  }

  /** Ends the connection; idempotent. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= new Promise((resolve) => this.client.end(true, {}, () => resolve()));
    return this.closing;
  }

  /** Drops the current connection and connects again at once. */
  private renew(): void {
    this.resetReady();
    this.client.end(true, {}, () => {
      if (!this.closed) this.client.reconnect();
    });
  }

  private openStream(): IStream {
    if (this.transport) return this.transport.open();
    const socket = new WebSocket(this.options.url(), ["mqtt"]);
    const stream = mqttWebSocketStream(socket);
    socket.on("close", () => stream.destroy());
    return stream;
  }

  private resetReady(): void {
    if (!this.isReady && this.ready) return;
    this.isReady = false;
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  private async onConnect(): Promise<void> {
    this.connects++;
    this.presenceSeen = false;
    this.garbageSeen = false;
    try {
      // Both SUBSCRIBEs go out at once, presence first: its retained message then usually arrives before
      // the second SUBACK, and no grace is spent.
      await Promise.all([
        this.subscribe(this.options.presenceTopic),
        this.subscribe(this.options.responseTopic),
      ]);
    } catch (error) {
      this.lastError = error as Error;
      this.warn((error as Error).message);
      return; // stays not ready: the invocation fails with the reason once its wait runs out
    }
    if (!this.presenceSeen) {
      // Unopenable garbage on the topic (anyone who may publish there can leave some) is no answer: the
      // session replaces it soon, so wait for that rather than report no session.
      const started = this.now();
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout;
        const arm = (): void => {
          clearTimeout(timer);
          const limit = this.garbageSeen ? this.repairWaitMs : this.graceMs;
          timer = setTimeout(resolve, Math.max(0, started + limit - this.now()));
        };
        arm();
        this.presenceWaiter = (garbage) => {
          if (garbage) return arm();
          clearTimeout(timer);
          resolve();
        };
      });
      this.presenceWaiter = undefined;
      if (!this.presenceSeen) this.setPresence(undefined);
    }
    if (!this.client.connected) return;
    this.isReady = true;
    this.markReady();
  }

  private subscribe(topic: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.subscribe(topic, { qos: 1 }, (error, granted) => {
        if (error) reject(new Error(`Could not subscribe to ${topic}: ${error.message}`));
        else if (granted?.some((grant) => grant.qos === 128)) {
          reject(
            new Error(`The broker refused the subscription to ${topic}: check the function's IoT policy.`),
          );
        } else resolve();
      });
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    try {
      if (topic === this.options.presenceTopic) {
        const reading = readPresence(this.reassembler, topic, payload);
        if (reading.kind === "garbage") {
          this.garbageSeen = true;
          this.presenceWaiter?.(true);
          return;
        }
        this.presenceSeen = true;
        this.setPresence(nextKnownPresence(this.known, reading));
        this.presenceWaiter?.(false);
        return;
      }
      if (topic !== this.options.responseTopic) return;
      const message = this.reassembler.push(topic, payload);
      if (!message || !REPLY_TYPES.has(message.type)) return;
      const reply = message as Reply;
      if (typeof reply.requestId !== "string") return;
      this.replies.get(reply.requestId)?.(reply);
    } catch (error) {
      // A reply handler's bug must not take the connection down with it.
      this.warn(`Dropped a message on ${topic}: ${(error as Error).message}`);
    }
  }

  private setPresence(presence: PresenceMessage | undefined): void {
    if (presence === this.known) return;
    this.known = presence;
    for (const listener of this.presenceListeners) listener();
  }
}
