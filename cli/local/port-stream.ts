import { Duplex } from "node:stream";
import type { MessagePort } from "node:worker_threads";

/** Sent before a deliberate close: the peer's stream then ends rather than fails. */
const END = null;

/** The error a stream ends with when its peer's side went away without ending it (a thread ended). */
export class PortClosedError extends Error {
  readonly code = "ERR_PULUMI_LIVE_LINK_CLOSED";
  constructor(what: string) {
    super(`${what} closed without ending the MQTT connection`);
  }
}

/**
 * A byte stream over a `MessagePort`, for MQTT between threads of one process (a local environment's stub
 * and serve's embedded broker). What one tick writes (an MQTT writer corks each packet) crosses as one
 * message, copied once into a buffer of its own that is moved, not cloned: the writer's buffers stay
 * its own (mqtt.js keeps a QoS 1 payload to resend; aedes shares one payload among its subscribers).
 * Like a socket, there is no flow control: the reader's side buffers what comes. Ending or destroying
 * it ends the peer's stream; destroying it with an error, or the peer's thread ending, fails the peer's
 * with a {@link PortClosedError}.
 * `what` names the peer for the error of a link that breaks ("serve's broker", "a stub's thread").
 */
export function portStream(port: MessagePort, what: string): Duplex {
  let ended = false;
  const send = (chunks: readonly Uint8Array[]): void => {
    let length = 0;
    for (const chunk of chunks) length += chunk.byteLength;
    // Not from Buffer's shared pool: the whole ArrayBuffer is moved to the other thread.
    const bytes = Buffer.allocUnsafeSlow(length);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    port.postMessage(bytes, [bytes.buffer]);
  };
  /** An end tells the peer so; a destroy with an error cuts the link, as a socket's reset. */
  const close = (error?: Error | null): void => {
    if (ended) return;
    ended = true;
    if (!error) port.postMessage(END);
    port.close();
  };
  const stream = new Duplex({
    // The peer's end is the end of the connection, as a socket's: writing ends too, and the stream closes.
    allowHalfOpen: false,
    read: () => undefined,
    write: (chunk: Buffer, _encoding, callback) => {
      send([chunk]);
      callback();
    },
    writev: (chunks, callback) => {
      send(chunks.map(({ chunk }) => chunk as Buffer));
      callback();
    },
    final: (callback) => {
      close();
      callback();
    },
    destroy: (error, callback) => {
      close(error);
      callback(error);
    },
  });
  port.on("message", (data: Uint8Array | null) => {
    if (data === END) {
      ended = true;
      stream.push(null);
      port.close();
      return;
    }
    stream.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  port.on("close", () => {
    // Closed by the peer without an end: its thread ended, or it was cut.
    if (ended) return;
    ended = true;
    stream.destroy(new PortClosedError(what));
  });
  return stream;
}
