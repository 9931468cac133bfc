import type { mqtt } from "aws-iot-device-sdk-v2";

/**
 * TEST ONLY, not a user feature: `PULUMI_LIVE_IOT_URL_OVERRIDE=ws://127.0.0.1:PORT` sends the AWS IoT
 * connection of `pulumi-live serve` to a plain local broker. Everything else stays on the AWS path (the
 * stack's client id, last will, keepalive, SigV4-signed handshake from the real credential chain); only the
 * host, the port and TLS change. The spawned-process tests use it, since they have no IoT Core.
 */
export const IOT_URL_OVERRIDE_ENV = "PULUMI_LIVE_IOT_URL_OVERRIDE";

export type AdjustConfig = (config: mqtt.MqttConnectionConfig) => mqtt.MqttConnectionConfig;

/** Points a built IoT config at `ws://host:port`: host and port replaced, TLS dropped, signing kept. */
export function pointAt(url: string): AdjustConfig {
  const parsed = new URL(url);
  if (parsed.protocol !== "ws:")
    throw new Error(`${IOT_URL_OVERRIDE_ENV} must be ws://host:port (got ${url})`);
  return (config) => ({
    ...config,
    host_name: parsed.hostname,
    port: Number(parsed.port || 80),
    tls_ctx: undefined,
  });
}

/** The override from the environment, when the tests set it. */
export function iotUrlOverride(env: NodeJS.ProcessEnv = process.env): AdjustConfig | undefined {
  const url = env[IOT_URL_OVERRIDE_ENV];
  return url ? pointAt(url) : undefined;
}
