/**
 * How a stub in a local environment thread reaches serve's embedded broker without a socket: for each
 * MQTT connection the thread makes a `MessageChannel`, sends one end to serve over its port, and the
 * stub's mqtt.js speaks over the other; serve hands its end to `LocalBroker.handle()`, where the broker's
 * rules apply as to any client (password, the stack's topics, QoS 1). A process environment has no such
 * port and keeps the WebSocket.
 */
import type { Duplex } from "node:stream";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { STUB_TRANSPORT, type StubTransport } from "../../protocol/stub-transport";
import { portStream } from "./port-stream";

/** Thread → serve: one end of a new link for the stub's MQTT connection. */
export interface BrokerLinkMessage {
  type: "broker-link";
  port: MessagePort;
}

/** The embedded broker's door for clients of this process (`LocalBroker.handle`). */
export interface InProcessBroker {
  handle(stream: Duplex): void;
}

/** What the stub names in its errors when the link fails. */
export const THREAD_LINK_TARGET =
  "the embedded MQTT broker in serve's process (over the environment thread's port)";

/** In the environment thread, before the stub bundle loads: its MQTT connections go over `parent`. */
export function installThreadBrokerLink(parent: MessagePort): void {
  const transport: StubTransport = {
    target: THREAD_LINK_TARGET,
    open: () => {
      const { port1, port2 } = new MessageChannel();
      const message: BrokerLinkMessage = { type: "broker-link", port: port2 };
      parent.postMessage(message, [port2]);
      return portStream(port1, "serve's end of the link to its broker");
    },
  };
  (globalThis as { [STUB_TRANSPORT]?: StubTransport })[STUB_TRANSPORT] = transport;
}

export function isBrokerLink(message: unknown): message is BrokerLinkMessage {
  return (message as { type?: unknown } | null)?.type === "broker-link";
}

/** In serve: hands the thread's end of a link to the broker (or closes it when there is none). */
export function acceptBrokerLink(message: BrokerLinkMessage, broker: InProcessBroker | undefined): void {
  if (!broker) return message.port.close();
  const stream = portStream(message.port, "the environment thread's end of its link");
  // The environment's thread, not this port, is what keeps serve busy.
  message.port.unref();
  broker.handle(stream);
}
