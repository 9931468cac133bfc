import type { Duplex } from "node:stream";
import MqttClient from "mqtt/lib/client";
import type { ConnectionStatus, MessageHandler, MqttConnectionOptions } from "../mqtt-connection";
import type { SessionConnection } from "../spread-connection";
import { duplexPair } from "./duplex-pair";

export interface InProcessConnectionOptions {
  /** The embedded broker's door for clients of this process (`LocalBroker.handle`). */
  broker: { handle(stream: Duplex): void };
  clientId: string;
  username?: string;
  password?: string;
  /** Published by the broker when this connection is lost without a clean disconnect. */
  will?: MqttConnectionOptions["will"];
  keepAliveSeconds?: number;
  /** Told about interruptions, resumptions and failures, for a status line. */
  onStatus?: (status: ConnectionStatus) => void;
  /** How long after a lost link to connect again (ms). @default 100 */
  reconnectMs?: number;
  /**
   * Told of each new link, the client's end of it (tests cut it to see a lost connection; the chaos run
   * puts faults on it).
   */
  onLink?: (link: Duplex) => void;
}

/** SUBACK's return code for a refused subscription (MQTT 3.1.1 §3.9.3). */
const SUBSCRIBE_REFUSED = 128;

/** Whether an MQTT topic filter (`+` one level, `#` the rest) matches a topic. */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length || (f[i] !== "+" && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/**
 * The session's MQTT connection to the embedded broker when both run in one process (local mode): an
 * MQTT client (mqtt.js) speaking to aedes over an in-memory stream instead of a WebSocket on loopback.
 * Every message then skips two socket writes and aws-crt's hand-over from its native thread, while the
 * broker keeps its rules for this client as for any other: the password, the stack's topics, retained
 * messages, the last will (published if the link is lost without a clean disconnect) and QoS 1 acks.
 * Like `MqttConnection`, it subscribes again after a reconnect (clean sessions) and then tells its
 * `onResumed` listeners; it never publishes retained messages again by itself.
 */
export class InProcessConnection implements SessionConnection {
  private closing?: Promise<void>;
  private readonly subscriptions = new Map<string, { onMessage: MessageHandler; atMostOnce: boolean }>();
  private readonly released = new Set<string>();
  private readonly resumedListeners = new Set<() => void>();

  private constructor(
    private readonly client: MqttClient,
    private readonly onStatus: (status: ConnectionStatus) => void,
  ) {}

  static async connect(options: InProcessConnectionOptions): Promise<InProcessConnection> {
    const client = new MqttClient(
      () => {
        const [mine, theirs] = duplexPair();
        options.broker.handle(theirs);
        options.onLink?.(mine);
        return mine;
      },
      {
        protocolVersion: 4, // MQTT 3.1.1, as every other client of the broker speaks
        clientId: options.clientId,
        ...(options.username !== undefined ? { username: options.username, password: options.password } : {}),
        clean: true,
        keepalive: options.keepAliveSeconds ?? 30,
        reconnectPeriod: options.reconnectMs ?? 100,
        connectTimeout: 10_000,
        // Subscribed again here after each reconnect, then the listeners are told (see restore).
        resubscribe: false,
        // A ping every keepalive rather than a timer set again on each packet (see stub/connection.ts).
        reschedulePings: false,
        ...(options.will
          ? {
              will: {
                topic: options.will.topic,
                payload: options.will.payload,
                qos: 1 as const,
                retain: options.will.retain,
              },
            }
          : {}),
      },
    );
    // A status listener that throws must not take the session down.
    const onStatus = (status: ConnectionStatus) => {
      try {
        options.onStatus?.(status);
      } catch {
        // nothing to do: the status line is all it was for
      }
    };
    const self = new InProcessConnection(client, onStatus);
    // Every listener from the start: mqtt.js emits `error` for a refused CONNECT, and an `error` with no
    // listener would throw out of its parser.
    let settle: ((error?: Error) => void) | undefined;
    const first = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    client.on("connect", () => {
      if (settle) {
        settle();
        settle = undefined;
      } else self.onReconnect();
    });
    client.on("close", () => {
      // A closed broker ends the link without a word: no answer will come.
      if (settle) return settle(new Error("the broker closed the link before answering"));
      if (!self.closing) onStatus({ state: "interrupted", detail: "the link to the embedded broker closed" });
    });
    client.on("error", (error) => {
      if (settle) return settle(error);
      onStatus({ state: "failed", detail: error.message });
    });
    client.on("message", (topic, payload, packet) => self.dispatch(topic, payload, packet.retain));
    try {
      await first;
    } catch (error) {
      settle = undefined;
      client.end(true);
      throw new Error(
        `The embedded MQTT broker refused the session's connection: ${(error as Error).message}. ` +
          "This is a fault of pulumi-live itself (the broker and the session share one process): " +
          "please report it with the command you ran.",
      );
    }
    return self;
  }

  private onReconnect(): void {
    this.onStatus({ state: "resumed", detail: "subscribing again" });
    void this.restore();
  }

  /** After a reconnect (always without a session): subscribe again, then tell the listeners. */
  private async restore(): Promise<void> {
    try {
      for (const [filter, s] of this.subscriptions) await this.subscribe(filter, s.onMessage, s.atMostOnce);
    } catch (error) {
      this.onStatus({ state: "failed", detail: `could not subscribe again: ${(error as Error).message}` });
      return;
    }
    for (const listener of this.resumedListeners) {
      try {
        listener();
      } catch (error) {
        this.onStatus({ state: "failed", detail: `after reconnecting: ${String(error)}` });
      }
    }
  }

  private dispatch(topic: string, payload: Buffer, retain: boolean): void {
    for (const [filter, s] of this.subscriptions) {
      if (!filterMatches(filter, topic)) continue;
      // A handler's failure is reported, never thrown into mqtt.js's parser (it would drop the link).
      try {
        s.onMessage(topic, payload, retain);
      } catch (error) {
        this.onStatus({ state: "failed", detail: `a message on ${topic} failed: ${String(error)}` });
      }
    }
  }

  onResumed(listener: () => void): () => void {
    this.resumedListeners.add(listener);
    return () => this.resumedListeners.delete(listener);
  }

  /** Subscribes with QoS 1, or QoS 0 with `atMostOnce` (as `MqttConnection.subscribe`). */
  subscribe(filter: string, onMessage: MessageHandler, atMostOnce = false): Promise<void> {
    this.subscriptions.set(filter, { onMessage, atMostOnce });
    return new Promise((resolve, reject) => {
      this.client.subscribe(filter, { qos: atMostOnce ? 0 : 1 }, (error, granted) => {
        if (error) return reject(new Error(`Could not subscribe to ${filter}: ${error.message}`));
        if (granted?.some((g) => (g.qos as number) === SUBSCRIBE_REFUSED)) {
          this.subscriptions.delete(filter);
          return reject(new Error(`The embedded broker refused the subscription to ${filter}.`));
        }
        resolve();
      });
    });
  }

  /** Publishes with QoS 1; resolves once the broker acknowledged it. */
  publish(topic: string, payload: Buffer, retain = false): Promise<void> {
    // Another session owns this topic now: publishing (even "offline") would overwrite its message.
    if (retain && this.released.has(topic)) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.client.publish(topic, payload, { qos: 1, retain }, (error) => (error ? reject(error) : resolve())),
    );
  }

  releaseRetained(topic: string): void {
    this.released.add(topic);
  }

  /**
   * Disconnects cleanly (no last will), after the publishes under way are acknowledged; idempotent. A
   * link that is down is not waited for: its will went out already.
   */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => this.client.end(!this.client.connected, {}, () => resolve()));
    return this.closing;
  }
}
