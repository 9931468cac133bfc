import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { createWebSocketStream, WebSocketServer, type WebSocket } from "ws";
import { UserError } from "../user-error";

/** An embedded MQTT broker served over WebSocket on 127.0.0.1. */
export interface LocalBroker {
  /** `ws://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Disconnects every client and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** WebSocket subprotocols MQTT clients ask for: mqtt.js and aws-crt send `mqtt`, older clients `mqttv3.1`. */
const MQTT_PROTOCOLS = ["mqtt", "mqttv3.1"];

/**
 * Starts the local mode's MQTT broker (aedes, in memory: retained messages and last wills work as on a
 * real broker) over WebSocket.
 */
export async function startBroker(
  options: {
    port?: number;
    /** Told of every message a client publishes (benchmarks count publishes per invocation with it). */
    onPublish?: (topic: string, bytes: number) => void;
  } = {},
): Promise<LocalBroker> {
  // aedes is an ES module; this package compiles to CommonJS.
  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker();
  const onPublish = options.onPublish;
  if (onPublish) {
    // aedes also emits its own $SYS messages here, with no client.
    broker.on("publish", (packet, client) => {
      if (client) onPublish(packet.topic, packet.payload.length);
    });
  }
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: options.port ?? 0,
    handleProtocols: (protocols) => MQTT_PROTOCOLS.find((p) => protocols.has(p)) ?? false,
  });
  wss.on("connection", (socket, request) => {
    const stream = mqttStream(socket);
    // A client vanishing mid-write surfaces here; aedes sees the close and publishes the last will.
    stream.on("error", () => socket.terminate());
    broker.handle(stream, request);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
  } catch (error) {
    broker.close();
    const port = options.port ?? 0;
    throw new UserError(
      `Could not start the local MQTT broker on 127.0.0.1:${port}: ${(error as Error).message}. Pick another port or stop what uses it.`,
    );
  }
  const port = (wss.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })()),
  };
}

/**
 * The WebSocket as the byte stream aedes writes MQTT packets to. aedes writes a packet in several pieces
 * within one corked tick; `ws`'s stream would send each piece as a WebSocket message of its own (a socket
 * write each, six or so per PUBLISH). Written together, they leave as one message: MQTT over WebSocket
 * lets messages hold any part of the byte stream, and clients reassemble it.
 */
function mqttStream(socket: WebSocket): Duplex {
  const stream = createWebSocketStream(socket);
  stream._writev = (chunks, callback) => {
    const bytes = Buffer.concat(chunks.map(({ chunk }) => chunk as Buffer));
    // The server's side of a connection is open from the start: no CONNECTING state to wait out.
    socket.send(bytes, callback);
  };
  return stream;
}
