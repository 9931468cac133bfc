import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { createWebSocketStream, WebSocketServer, type WebSocket } from "ws";
import { UserError } from "../user-error";

/** An embedded MQTT broker served over WebSocket on 127.0.0.1. */
export interface LocalBroker {
  /** `ws://127.0.0.1:PORT` */
  url: string;
  port: number;
  /**
   * Takes a client connection from this process (an in-memory stream carrying MQTT, see
   * `InProcessConnection`): the broker's rules apply to it as to any client, password included.
   */
  handle(stream: Duplex): void;
  /** Disconnects every client and stops listening. Idempotent. */
  close(): Promise<void>;
}

export interface LocalBrokerOptions {
  port?: number;
  /** Told of every message a client publishes (benchmarks count publishes per invocation with it). */
  onPublish?: (topic: string, bytes: number) => void;
  /**
   * The password every client must connect with (user name {@link BROKER_USER}): local mode makes one per
   * run and gives it to its session and its stubs only. Without it any local process may connect.
   */
  password?: string;
  /** When set, clients may publish and subscribe only under `<prefix>/`: the stack's topics. */
  prefix?: string;
  /** Largest retained message kept (bytes); larger ones are refused. @default 16 KB */
  maxRetainedBytes?: number;
  /** Told of each client that connects over WebSocket (in-process clients use none: tests check it). */
  onWebSocket?: () => void;
}

/** The user name local mode's clients connect with. */
export const BROKER_USER = "pulumi-live";

/** WebSocket subprotocols MQTT clients ask for: mqtt.js and aws-crt send `mqtt`, older clients `mqttv3.1`. */
const MQTT_PROTOCOLS = ["mqtt", "mqttv3.1"];

/** MQTT 3.1.1 CONNACK return code 4: bad user name or password. */
const BAD_CREDENTIALS = 4;

/**
 * Starts the local mode's MQTT broker (aedes, in memory: retained messages and last wills work as on a
 * real broker) over WebSocket. A browser's WebSocket always sends `Origin`; MQTT clients do not: a
 * handshake with one is refused, so no web page can reach the broker.
 */
export async function startBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  // aedes is an ES module; this package compiles to CommonJS.
  const { Aedes } = await import("aedes");
  const { password, prefix } = options;
  const maxRetained = options.maxRetainedBytes ?? 16 * 1024;
  const inStack = (topic: string) => prefix === undefined || topic.startsWith(`${prefix}/`);
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, given, done) => {
      if (password === undefined) return done(null, true);
      const ok = username === BROKER_USER && given !== undefined && given.toString("utf8") === password;
      if (ok) return done(null, true);
      const error = Object.assign(new Error("bad user name or password"), { returnCode: BAD_CREDENTIALS });
      return done(error, false);
    },
    authorizePublish: (_client, packet, done) => {
      if (!inStack(packet.topic)) return done(new Error(`publishing to ${packet.topic} is not allowed`));
      if (packet.retain && packet.payload.length > maxRetained) {
        return done(new Error(`retained message over ${maxRetained} bytes on ${packet.topic}`));
      }
      done(null);
    },
    authorizeSubscribe: (_client, subscription, done) => {
      if (!inStack(subscription.topic))
        return done(new Error(`subscribing to ${subscription.topic} is not allowed`));
      done(null, subscription);
    },
  });
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
    verifyClient: (info: { origin?: string }) => !info.origin,
  });
  wss.on("connection", (socket, request) => {
    options.onWebSocket?.();
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
    handle: (stream) => {
      // After close, aedes would take the client and never answer: end the stream, so it reconnects no more.
      if (broker.closed) stream.destroy();
      else broker.handle(stream);
    },
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
  let pending: Buffer[] = [];
  let callbacks: Array<(error?: Error | null) => void> = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const bytes = pending.length === 1 ? pending[0] : Buffer.concat(pending);
    const done = callbacks;
    pending = [];
    callbacks = [];
    // The server's side of a connection is open from the start: no CONNECTING state to wait out.
    socket.send(bytes, (error) => {
      for (const callback of done) callback(error);
    });
  };
  const write = (chunks: Buffer[], callback: (error?: Error | null) => void): void => {
    // What is written for this client in one turn of the event loop (packets routed from several
    // publishers at once) leaves in one socket write: each write costs a system call and wakes the reader.
    if (pending.length === 0) setImmediate(flush);
    pending.push(...chunks);
    callbacks.push(callback);
  };
  stream._writev = (chunks, callback) =>
    write(
      chunks.map(({ chunk }) => chunk as Buffer),
      callback,
    );
  stream._write = (chunk: Buffer, _encoding, callback) => write([chunk], callback);
  // A stream ended or destroyed right after a write (a CONNACK refusing the client) sends it first.
  const final = stream._final.bind(stream);
  const destroy = stream._destroy.bind(stream);
  stream._final = (callback) => {
    flush();
    final(callback);
  };
  stream._destroy = (error, callback) => {
    flush();
    destroy(error, callback);
  };
  return stream;
}
