import { auth, io, iot, mqtt } from "aws-iot-device-sdk-v2";
import type { CredentialsSource } from "./aws/credentials";
import { sigv4Handshake } from "./aws/iot-handshake";

/** Where the CLI's MQTT connection goes: a plain broker (local mode, tests) or AWS IoT Core. */
export type MqttTarget =
  /** A plain broker; local mode's embedded one takes a per-run user name and password. */
  | { kind: "broker"; url: string; username?: string; password?: string }
  | {
      kind: "iot";
      /** The stack's IoT data endpoint, or `--endpoint`'s host. */
      endpoint: string;
      /** `--endpoint`'s port. @default 443 */
      port?: number;
      /** `--ca-file`: trust these certificate authorities instead of the default ones. */
      caFile?: string;
      region: string;
      /**
       * A native provider, or a source asked again on every connect and reconnect (so credentials that
       * were refreshed are the ones used).
       */
      credentials: auth.AwsCredentialsProvider | CredentialsSource;
    };

export interface MqttConnectionOptions {
  target: MqttTarget;
  clientId: string;
  /** Published by the broker when this connection is lost without a clean disconnect. */
  will?: { topic: string; payload: Buffer; retain: boolean };
  keepAliveSeconds?: number;
  /** Told about interruptions, resumptions and failed reconnects, for a status line. */
  onStatus?: (status: ConnectionStatus) => void;
  /** Only for tests of the AWS path: adjusts the built config (endpoint, port, TLS and signing). */
  adjustConfig?: (config: mqtt.MqttConnectionConfig) => mqtt.MqttConnectionConfig;
  /**
   * What to tell the user when the broker refuses the connection or a subscription: the permission their
   * identity lacks and how to get it. Without it, a generic hint.
   */
  explainRefusal?: (refused: Refusal) => string;
}

/** What the broker refused. */
export type Refusal =
  { kind: "connect"; clientId: string; will: boolean } | { kind: "subscribe"; filter: string };

export interface ConnectionStatus {
  state: "interrupted" | "resumed" | "failed";
  detail?: string;
}

/** `retain` is set for a retained message delivered because of a new subscription. */
export type MessageHandler = (topic: string, payload: Buffer, retain: boolean) => void;

/** What to do about a failed connect: the handshake refused, the CONNECT refused, or no answer. */
function connectHint(options: MqttConnectionOptions, reason: string): string {
  if (options.target.kind === "broker") return "Check that the broker runs and listens there.";
  if (/WEBSOCKET_UPGRADE_FAILURE/.test(reason)) {
    return (
      "AWS IoT refused the signed WebSocket handshake: your AWS credentials were not accepted (expired, " +
      "revoked, or not for this account). Check them with: aws sts get-caller-identity"
    );
  }
  if (/MQTT_PROTOCOL_ERROR|NOT_AUTHORIZED|UNEXPECTED_HANGUP|CONNECTION_REFUSED/.test(reason)) {
    const refused = options.explainRefusal?.({
      kind: "connect",
      clientId: options.clientId,
      will: !!options.will,
    });
    if (refused) return refused;
  }
  return (
    "Check that the endpoint is reachable from this machine (a proxy or firewall may block port 443) and that " +
    "your AWS identity may connect: print the policy it needs with pulumi-live policy."
  );
}

/** SUBACK's return code for a refused subscription (MQTT 3.1.1 §3.9.3). */
const SUBSCRIBE_REFUSED = 128;

function isSource(
  credentials: auth.AwsCredentialsProvider | CredentialsSource,
): credentials is CredentialsSource {
  return typeof (credentials as CredentialsSource).get === "function";
}

/** Builds the connection config for a target; the AWS path signs the WebSocket handshake with SigV4. */
export function connectionConfig(options: MqttConnectionOptions): mqtt.MqttConnectionConfig {
  const keepAlive = options.keepAliveSeconds ?? 30;
  const will = options.will
    ? new mqtt.MqttWill(options.will.topic, mqtt.QoS.AtLeastOnce, options.will.payload, options.will.retain)
    : undefined;
  const { target } = options;
  if (target.kind === "broker") {
    const url = new URL(target.url);
    if (url.protocol !== "ws:") {
      throw new Error(
        `Broker URL must be ws://host:port (got ${target.url}); wss:// is used only for AWS IoT.`,
      );
    }
    return {
      client_id: options.clientId,
      host_name: url.hostname,
      port: Number(url.port || 80),
      use_websocket: true,
      socket_options: new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.IPV4, 5000),
      clean_session: true,
      keep_alive: keepAlive,
      reconnect_min_sec: 1,
      reconnect_max_sec: 30,
      will,
      // aws-crt appends SDK metrics to the user name unless told not to; a plain broker checks it as given.
      ...(target.username !== undefined
        ? { username: target.username, password: target.password, disable_metrics: true }
        : {}),
    };
  }
  const credentials = target.credentials;
  const builder = !isSource(credentials)
    ? iot.AwsIotMqttConnectionConfigBuilder.new_with_websockets({
        region: target.region,
        credentials_provider: credentials,
      })
    : iot.AwsIotMqttConnectionConfigBuilder.new_with_websockets();
  if (target.port !== undefined) builder.with_port(target.port);
  if (target.caFile) builder.with_certificate_authority_from_path(undefined, target.caFile);
  builder
    .with_endpoint(target.endpoint)
    .with_client_id(options.clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(keepAlive)
    .with_reconnect_min_sec(1)
    .with_reconnect_max_sec(30);
  if (will) builder.with_will(will);
  const config = builder.build();
  if (isSource(credentials)) {
    config.websocket_handshake_transform = sigv4Handshake(target.region, credentials, (error) =>
      options.onStatus?.({ state: "failed", detail: error.message }),
    );
  }
  return options.adjustConfig ? options.adjustConfig(config) : config;
}

/**
 * The CLI's MQTT connection (aws-iot-device-sdk-v2 over WebSocket), MQTT 3.1.1 QoS 0/1, which both AWS IoT
 * Core and aedes speak. aws-crt reconnects with backoff (1 s to 30 s) but, with a clean session, does NOT
 * subscribe again (checked against aws-crt 1.33: after a broker restart nothing arrives): this class
 * keeps its subscriptions and re-subscribes when a reconnect comes without a session, then tells its
 * `onResumed` listeners. It does not publish retained messages again by itself: the broker published this
 * connection's last will when it lost it, or (restarted) lost its retained messages, and only the owner
 * knows whether its message is still the one that belongs there (a newer session may have taken over).
 */
export class MqttConnection {
  private closing?: Promise<void>;
  private readonly subscriptions = new Map<string, { onMessage: MessageHandler; atMostOnce: boolean }>();
  private readonly released = new Set<string>();
  private readonly resumedListeners = new Set<() => void>();

  private constructor(
    private readonly connection: mqtt.MqttClientConnection,
    private readonly onStatus?: (status: ConnectionStatus) => void,
    private readonly explainRefusal?: (refused: Refusal) => string,
  ) {}

  static async connect(options: MqttConnectionOptions): Promise<MqttConnection> {
    const client = new mqtt.MqttClient();
    const connection = client.new_connection(connectionConfig(options));
    // Called from aws-crt's native callbacks, where an exception aborts the process: nothing may escape.
    const onStatus = (status: ConnectionStatus) => {
      try {
        options.onStatus?.(status);
      } catch {
        // a failing status line must not take the session down
      }
    };
    const self = new MqttConnection(connection, onStatus, options.explainRefusal);
    // aws-crt emits every failed operation here as well as rejecting it: say so, whoever caught the rejection.
    connection.on("error", (error) => onStatus({ state: "failed", detail: String(error?.message ?? error) }));
    connection.on("interrupt", (error) =>
      onStatus({ state: "interrupted", detail: String(error?.message ?? error) }),
    );
    connection.on("resume", (_returnCode, sessionPresent) => {
      onStatus({ state: "resumed", detail: sessionPresent ? undefined : "subscribing again" });
      if (!sessionPresent) void self.restore();
    });
    try {
      await connection.connect();
    } catch (error) {
      const { target } = options;
      const where =
        target.kind === "broker" ? target.url : `${target.endpoint}${target.port ? `:${target.port}` : ""}`;
      const reason = String((error as Error).message ?? error);
      throw new Error(
        `Could not connect to the MQTT broker at ${where}: ${reason}. ${connectHint(options, reason)}`,
      );
    }
    return self;
  }

  /** After a reconnect without a session: subscribe again, then tell the listeners. */
  private async restore(): Promise<void> {
    try {
      for (const [filter, s] of this.subscriptions) await this.subscribe(filter, s.onMessage, s.atMostOnce);
    } catch (error) {
      this.onStatus?.({ state: "failed", detail: `could not subscribe again: ${(error as Error).message}` });
      return;
    }
    for (const listener of this.resumedListeners) {
      try {
        listener();
      } catch (error) {
        this.onStatus?.({ state: "failed", detail: `after reconnecting: ${String(error)}` });
      }
    }
  }

  /** Calls `listener` after each reconnect, once the subscriptions are back; returns its removal. */
  onResumed(listener: () => void): () => void {
    this.resumedListeners.add(listener);
    return () => this.resumedListeners.delete(listener);
  }

  /**
   * Subscribes with QoS 1, or QoS 0 with `atMostOnce`. aws-crt does not set TCP_NODELAY, so a PUBACK
   * written just before a publish makes that publish wait for the broker's delayed ACK (about 40 ms);
   * QoS 0 writes no PUBACK. With clean sessions QoS 1 redelivers nothing after a reconnect anyway.
   */
  async subscribe(filter: string, onMessage: MessageHandler, atMostOnce = false): Promise<void> {
    this.subscriptions.set(filter, { onMessage, atMostOnce });
    const qos = atMostOnce ? mqtt.QoS.AtMostOnce : mqtt.QoS.AtLeastOnce;
    const granted = await this.connection.subscribe(filter, qos, (topic, payload, _dup, _qos, retain) => {
      // An exception thrown back into aws-crt's native callback aborts the whole process, so nothing may
      // escape here. aws-crt hands an empty payload over as a detached ArrayBuffer (byteLength 0), which
      // Buffer.from rejects.
      try {
        onMessage(topic, payload.byteLength > 0 ? Buffer.from(payload) : Buffer.alloc(0), retain);
      } catch (error) {
        this.onStatus?.({ state: "failed", detail: `a message on ${topic} failed: ${String(error)}` });
      }
    });
    // aws-crt resolves a refused subscription too; without this check the session would look ready
    // and receive nothing.
    if ((granted.qos as number) === SUBSCRIBE_REFUSED) {
      this.subscriptions.delete(filter);
      throw new Error(
        this.explainRefusal?.({ kind: "subscribe", filter }) ??
          `The broker refused the subscription to ${filter}. For AWS IoT, your identity needs iot:Subscribe ` +
            `and iot:Receive on the stack's topics: print the policy with pulumi-live policy and attach it.`,
      );
    }
  }

  async publish(topic: string, payload: Buffer, retain = false): Promise<void> {
    // Another session owns this topic now: publishing (even "offline") would overwrite its message.
    if (retain && this.released.has(topic)) return;
    await this.connection.publish(topic, payload, mqtt.QoS.AtLeastOnce, retain);
  }

  /** Stops publishing retained messages to `topic` (a newer session took it over). */
  releaseRetained(topic: string): void {
    this.released.add(topic);
  }

  /** Disconnects cleanly (no last will); idempotent. */
  close(): Promise<void> {
    this.closing ??= this.connection.disconnect().catch(() => undefined);
    return this.closing;
  }
}
