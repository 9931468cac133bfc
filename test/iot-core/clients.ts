import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connectAsync, type IClientOptions, type MqttClient } from "mqtt";
import { presignIotUrl } from "../../stub/sigv4";
import type { Identity, IotCoreStandIn, PolicyDocument } from "./stand-in";

/** Static credentials the stand-in knows, for `principal` with `policies`; registered before returning. */
export async function addIdentity(
  standIn: IotCoreStandIn,
  principal: string,
  policies: Record<string, PolicyDocument>,
  options: { temporary?: boolean; expiration?: Date } = {},
): Promise<Identity> {
  const identity: Identity = {
    accessKeyId: `${options.temporary ? "ASIA" : "AKIA"}${randomBytes(8).toString("hex").toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString("base64"),
    sessionToken: options.temporary ? `IQoJ${randomBytes(64).toString("base64")}` : undefined,
    expiration: options.expiration,
    principal,
    policies,
  };
  await standIn.principals.add(identity);
  return identity;
}

/**
 * An mqtt.js client (MQTT 3.1.1 over wss) signed as `identity`, trusting the stand-in's CA: the shape of
 * the relay stub's connection, for tests that act as a misbehaving or curious client.
 */
export function connectAs(
  standIn: IotCoreStandIn,
  identity: Pick<Identity, "accessKeyId" | "secretAccessKey" | "sessionToken">,
  options: IClientOptions & { clientId: string },
): Promise<MqttClient> {
  const url = presignIotUrl({ endpoint: standIn.endpoint, region: standIn.region, credentials: identity });
  return connectAsync(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ca: readFileSync(standIn.caFile),
    ...options,
  });
}
