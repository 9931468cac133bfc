/** The brokers a chaos run goes through: the embedded aedes of local mode, and Debian's mosquitto. */
import { randomBytes } from "node:crypto";
import { BROKER_USER, startBroker } from "../../cli/local/broker";
import { mosquittoAvailable, startMosquitto } from "../helpers/mosquitto";
import type { Upstream } from "./fault-proxy";

export type BrokerName = "aedes" | "mosquitto";

export interface ChaosBroker {
  name: BrokerName;
  /** Where the proxy forwards to. */
  upstream: Upstream;
  /** Where a watcher connects directly, past the proxy (MQTT over WebSocket). */
  directUrl: string;
  /** Credentials every client gives (local mode's per-run secret), if the broker wants them. */
  username?: string;
  password?: string;
  close(): Promise<void>;
}

export { mosquittoAvailable };

/**
 * aedes as local mode runs it (authenticated, kept to the stack's topics); mosquitto with a plain TCP
 * listener, which the proxy speaks to, and its own WebSocket listener, which the watcher uses.
 */
export async function startChaosBroker(name: BrokerName, prefix: string): Promise<ChaosBroker> {
  if (name === "aedes") {
    const password = randomBytes(18).toString("base64url");
    const broker = await startBroker({ password, prefix });
    return {
      name,
      upstream: { kind: "ws", url: broker.url },
      directUrl: broker.url,
      username: BROKER_USER,
      password,
      close: () => broker.close(),
    };
  }
  const mosquitto = await startMosquitto();
  return {
    name,
    upstream: { kind: "tcp", port: mosquitto.plainPort },
    directUrl: mosquitto.url,
    close: () => mosquitto.stop(),
  };
}
