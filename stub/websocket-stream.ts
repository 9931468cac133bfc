import type { Duplex } from "node:stream";
import { createWebSocketStream, type WebSocket } from "ws";

/**
 * The WebSocket as the byte stream mqtt.js writes MQTT packets to. mqtt.js writes a packet in several
 * pieces within one corked tick; `ws`'s stream would send each piece as a WebSocket message of its own, a
 * socket write each (five or so per PUBLISH). Written together they leave as one message: MQTT over
 * WebSocket lets a message hold any part of the byte stream, and brokers (IoT Core, aedes, mosquitto)
 * reassemble it.
 */
export function mqttWebSocketStream(socket: WebSocket): Duplex {
  const stream = createWebSocketStream(socket);
  const write = stream._write.bind(stream);
  // ws's own _write waits for the socket to open; Node passes "buffer" for Buffer chunks.
  stream._writev = (chunks, callback) =>
    write(Buffer.concat(chunks.map(({ chunk }) => chunk as Buffer)), "buffer" as BufferEncoding, callback);
  return stream;
}
