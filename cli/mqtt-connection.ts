import { auth, io, iot, mqtt } from "aws-iot-device-sdk-v2";

/** Where the CLI's MQTT connection goes: a plain broker (local mode, tests) or AWS IoT Core. */
export type MqttTarget =
  | { kind: "broker"; url: string }
  | {
      kind: "iot";
      endpoint: string;
      region: string;
      credentials: auth.AwsCredentialsProvider;
    };

export interface MqttConnectionOptions {
  target: MqttTarget;
  clientId: string;
  /** Published by the broker when this connection is lost without a clean disconnect. */
  will?: { topic: string; payload: Buffer; retain: boolean };
  keepAliveSeconds?: number;
  /** Told about interruptions and resumptions, for a status line. */
  onStatus?: (status: { state: "interrupted" | "resumed"; detail?: string }) => void;
  /** Only for tests of the AWS path: adjusts the built config (endpoint, port, TLS and signing). */
  adjustConfig?: (config: mqtt.MqttConnectionConfig) => mqtt.MqttConnectionConfig;
}

export type MessageHandler = (topic: string, payload: Buffer) => void;

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
    };
  }
  const builder = iot.AwsIotMqttConnectionConfigBuilder.new_with_websockets({
    region: target.region,
    credentials_provider: target.credentials,
  })
    .with_endpoint(target.endpoint)
    .with_client_id(options.clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(keepAlive)
    .with_reconnect_min_sec(1)
    .with_reconnect_max_sec(30);
  if (will) builder.with_will(will);
  const config = builder.build();
  return options.adjustConfig ? options.adjustConfig(config) : config;
}

/**
 * The CLI's MQTT connection (aws-iot-device-sdk-v2 over WebSocket), MQTT 3.1.1 QoS 1 only, which both
 * AWS IoT Core and aedes speak. aws-crt reconnects with backoff and resubscribes by itself.
 */
export class MqttConnection {
  private closing?: Promise<void>;

  private constructor(private readonly connection: mqtt.MqttClientConnection) {}

  static async connect(options: MqttConnectionOptions): Promise<MqttConnection> {
    const client = new mqtt.MqttClient();
    const connection = client.new_connection(connectionConfig(options));
    connection.on("error", () => undefined);
    connection.on("interrupt", (error) =>
      options.onStatus?.({ state: "interrupted", detail: String(error?.message ?? error) }),
    );
    connection.on("resume", () => options.onStatus?.({ state: "resumed" }));
    try {
      await connection.connect();
    } catch (error) {
      const where = options.target.kind === "broker" ? options.target.url : options.target.endpoint;
      throw new Error(
        `Could not connect to the MQTT broker at ${where}: ${(error as Error).message ?? error}`,
      );
    }
    return new MqttConnection(connection);
  }

  /**
   * Subscribes with QoS 1, or QoS 0 with `atMostOnce`. aws-crt does not set TCP_NODELAY, so a PUBACK
   * written just before a publish makes that publish wait for the broker's delayed ACK (about 40 ms);
   * QoS 0 writes no PUBACK. With clean sessions QoS 1 redelivers nothing after a reconnect anyway.
   */
  async subscribe(filter: string, onMessage: MessageHandler, atMostOnce = false): Promise<void> {
    const qos = atMostOnce ? mqtt.QoS.AtMostOnce : mqtt.QoS.AtLeastOnce;
    await this.connection.subscribe(filter, qos, (topic, payload) => {
      onMessage(topic, Buffer.from(payload));
    });
  }

  async publish(topic: string, payload: Buffer, retain = false): Promise<void> {
    await this.connection.publish(topic, payload, mqtt.QoS.AtLeastOnce, retain);
  }

  /** Disconnects cleanly (no last will); idempotent. */
  close(): Promise<void> {
    this.closing ??= this.connection.disconnect().catch(() => undefined);
    return this.closing;
  }
}
