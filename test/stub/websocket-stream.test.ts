import { once } from "node:events";
import type { AddressInfo } from "node:net";
import test from "ava";
import WebSocket, { WebSocketServer } from "ws";
import { mqttWebSocketStream } from "../../stub/websocket-stream";

/** A WebSocket server on 127.0.0.1 that keeps every message it receives. */
async function server(t: { teardown(fn: () => Promise<void>): void }) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(wss, "listening");
  const messages: Buffer[] = [];
  let bytes = 0;
  let waiting: { bytes: number; resolve(): void } | undefined;
  wss.on("connection", (socket) =>
    socket.on("message", (data: Buffer) => {
      messages.push(data);
      bytes += data.length;
      if (waiting && bytes >= waiting.bytes) waiting.resolve();
    }),
  );
  /** Resolves once this many bytes have arrived, in however many messages. */
  const received = (count: number) =>
    new Promise<void>((resolve) => {
      if (bytes >= count) return resolve();
      waiting = { bytes: count, resolve };
    });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, messages, received };
}

/** Writes pieces as mqtt.js writes a packet: corked, uncorked on the next tick. */
function writeCorked(stream: NodeJS.WritableStream & { cork(): void; uncork(): void }, pieces: string[]) {
  stream.cork();
  for (const piece of pieces) stream.write(Buffer.from(piece));
  process.nextTick(() => stream.uncork());
}

test("pieces written in one corked tick leave as one WebSocket message, before and after the socket opens", async (t) => {
  const { url, messages, received } = await server(t);
  const socket = new WebSocket(url);
  t.teardown(async () => socket.terminate());
  const stream = mqttWebSocketStream(socket);
  // Still connecting: the pieces wait for the socket to open, then go together.
  writeCorked(stream, ["con", "nect"]);
  await once(socket, "open");
  writeCorked(stream, ["pub", "lish", " packet"]);
  await received("connect".length + "publish packet".length);
  t.deepEqual(
    messages.map((m) => m.toString()),
    ["connect", "publish packet"],
  );
});
