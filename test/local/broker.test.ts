import test from "ava";
import { once } from "node:events";
import { connectAsync, type MqttClient } from "mqtt";
import WebSocket from "ws";
import { BROKER_USER, startBroker, type LocalBroker, type LocalBrokerOptions } from "../../cli/local/broker";

async function broker(
  t: { teardown(fn: () => Promise<void>): void },
  options: LocalBrokerOptions = {},
): Promise<LocalBroker> {
  const started = await startBroker(options);
  t.teardown(() => started.close());
  return started;
}

async function client(
  t: { teardown(fn: () => Promise<void>): void },
  url: string,
  options = {},
): Promise<MqttClient> {
  const connected = await connectAsync(url, { reconnectPeriod: 0, ...options });
  t.teardown(() => connected.endAsync(true));
  return connected;
}

function nextMessage(c: MqttClient): Promise<{ topic: string; payload: string; retain: boolean }> {
  return new Promise((resolve) =>
    c.once("message", (topic, payload, packet) =>
      resolve({ topic, payload: payload.toString(), retain: packet.retain }),
    ),
  );
}

test("listens on 127.0.0.1 and accepts the mqtt WebSocket subprotocol", async (t) => {
  const b = await broker(t);
  t.regex(b.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
  const socket = new WebSocket(b.url, ["mqtt"]);
  await once(socket, "open");
  t.is(socket.protocol, "mqtt");
  socket.terminate();
});

test("delivers a retained message to a later subscriber", async (t) => {
  const b = await broker(t);
  const publisher = await client(t, b.url);
  await publisher.publishAsync("stack/presence", "online", { qos: 1, retain: true });
  const subscriber = await client(t, b.url);
  const message = nextMessage(subscriber);
  await subscriber.subscribeAsync("stack/presence", { qos: 1 });
  t.deepEqual(await message, { topic: "stack/presence", payload: "online", retain: true });
});

test("publishes a client's last will when its socket is destroyed", async (t) => {
  const b = await broker(t);
  const watcher = await client(t, b.url);
  await watcher.subscribeAsync("stack/presence", { qos: 1 });
  const message = nextMessage(watcher);
  const doomed = await client(t, b.url, {
    will: { topic: "stack/presence", payload: Buffer.from("gone"), qos: 1, retain: false },
  });
  doomed.stream.destroy();
  t.deepEqual(await message, { topic: "stack/presence", payload: "gone", retain: false });
});

test("close disconnects clients and is idempotent", async (t) => {
  const b = await startBroker();
  const c = await connectAsync(b.url, { reconnectPeriod: 0 });
  const closed = new Promise<void>((resolve) => c.once("close", () => resolve()));
  await Promise.all([b.close(), b.close()]);
  await closed;
  t.false(c.connected);
  await c.endAsync(true);
});

/** An MQTT 3.1.1 string: two bytes of length, then the bytes. */
function mqttString(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 255]), bytes]);
}

test("sends each MQTT packet to a WebSocket client as one WebSocket message", async (t) => {
  const b = await broker(t);
  const socket = new WebSocket(b.url, ["mqtt"]);
  t.teardown(() => socket.terminate());
  await once(socket, "open");
  const messages: Buffer[] = [];
  socket.on("message", (data: Buffer) => messages.push(data));
  // CONNECT (clean session, keep-alive 60 s), then SUBSCRIBE to the topic at QoS 0, written by hand.
  const connect = Buffer.concat([mqttString("MQTT"), Buffer.from([4, 2, 0, 60]), mqttString("raw-client")]);
  socket.send(Buffer.concat([Buffer.from([0x10, connect.length]), connect]));
  const subscribe = Buffer.concat([Buffer.from([0, 1]), mqttString("stack/frames"), Buffer.from([0])]);
  socket.send(Buffer.concat([Buffer.from([0x82, subscribe.length]), subscribe]));
  const received = () => Buffer.concat(messages);
  // CONNACK (4 bytes) and SUBACK (5 bytes): subscribed.
  while (received().length < 9) await once(socket, "message");
  messages.length = 0;
  const publisher = await client(t, b.url);
  await publisher.publishAsync("stack/frames", "a payload of some length", { qos: 0 });
  const expected = 2 + 2 + "stack/frames".length + "a payload of some length".length;
  while (received().length < expected) await once(socket, "message");
  t.is(received().length, expected);
  t.is(received()[0] >> 4, 3); // PUBLISH
  // Each piece in a message of its own would cost a socket write each (ws writes header and data).
  t.is(messages.length, 1);
});

test("packets for one client routed in the same turn of the event loop leave in one WebSocket message", async (t) => {
  const b = await broker(t);
  const socket = new WebSocket(b.url, ["mqtt"]);
  t.teardown(() => socket.terminate());
  await once(socket, "open");
  const messages: Buffer[] = [];
  socket.on("message", (data: Buffer) => messages.push(data));
  const connect = Buffer.concat([mqttString("MQTT"), Buffer.from([4, 2, 0, 60]), mqttString("raw-client")]);
  socket.send(Buffer.concat([Buffer.from([0x10, connect.length]), connect]));
  const subscribe = Buffer.concat([Buffer.from([0, 1]), mqttString("stack/frames"), Buffer.from([0])]);
  socket.send(Buffer.concat([Buffer.from([0x82, subscribe.length]), subscribe]));
  const received = () => Buffer.concat(messages);
  while (received().length < 9) await once(socket, "message");
  messages.length = 0;
  // Five publishes in one WebSocket message from another client: the broker routes them in one turn.
  const publisher = new WebSocket(b.url, ["mqtt"]);
  t.teardown(() => publisher.terminate());
  await once(publisher, "open");
  const hello = Buffer.concat([mqttString("MQTT"), Buffer.from([4, 2, 0, 60]), mqttString("raw-publisher")]);
  const publish = (n: number) => {
    const body = Buffer.concat([mqttString("stack/frames"), Buffer.from(`payload ${n}`)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  };
  publisher.send(
    Buffer.concat([Buffer.from([0x10, hello.length]), hello, ...[1, 2, 3, 4, 5].map((n) => publish(n))]),
  );
  const expected = 5 * (2 + 2 + "stack/frames".length + "payload 1".length);
  while (received().length < expected) await once(socket, "message");
  t.is(received().length, expected);
  // A socket write (and a wake-up of the reader) per turn, not per packet: aedes takes the first packet
  // after the CONNECT in a turn of its own, the other four together.
  t.true(messages.length <= 2, `${messages.length} WebSocket messages for 5 packets`);
});

/** Resolves with how a connection attempt ended: "connected", or the error's message. */
async function attempt(url: string, options: object = {}): Promise<string> {
  try {
    const c = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    await c.endAsync(true);
    return "connected";
  } catch (error) {
    return (error as Error).message;
  }
}

test("with a password, only clients that give it connect", async (t) => {
  const b = await broker(t, { password: "per-run-secret" });
  t.is(await attempt(b.url, { username: BROKER_USER, password: "per-run-secret" }), "connected");
  t.not(await attempt(b.url), "connected");
  t.not(await attempt(b.url, { username: BROKER_USER, password: "guess" }), "connected");
  t.not(await attempt(b.url, { username: "someone", password: "per-run-secret" }), "connected");
});

test("a browser's WebSocket (it always sends Origin) is refused", async (t) => {
  const b = await broker(t);
  for (const origin of ["https://evil.example", "http://127.0.0.1:3000", "null"]) {
    const socket = new WebSocket(b.url, ["mqtt"], { origin });
    const [request, response] = (await once(socket, "unexpected-response")) as [
      { destroy(): void },
      { statusCode: number },
    ];
    t.is(response.statusCode, 401, origin);
    request.destroy();
  }
  t.is(await attempt(b.url), "connected");
});

test("clients stay within the stack's topics, and retained messages are capped in size", async (t) => {
  const b = await broker(t, { prefix: "pulumi-live/o/p/s/id", maxRetainedBytes: 1024 });
  const topic = "pulumi-live/o/p/s/id/presence";
  const c = await client(t, b.url);
  await c.publishAsync(topic, Buffer.alloc(1024, 1), { qos: 1, retain: true });
  // Over the cap, or outside the stack: aedes refuses by closing the connection.
  for (const [where, size] of [
    [topic, 1025],
    ["elsewhere/presence", 10],
  ] as const) {
    const other = await client(t, b.url);
    const closed = new Promise<void>((resolve) => other.once("close", () => resolve()));
    other.publish(where, Buffer.alloc(size), { qos: 1, retain: true });
    await closed;
  }
  const sub = await client(t, b.url);
  const message = nextMessage(sub);
  await sub.subscribeAsync(topic, { qos: 1 });
  t.is((await message).payload.length, 1024);
  const wildcard = await client(t, b.url);
  const granted = await wildcard.subscribeAsync("#", { qos: 1 }).catch((error: Error) => error);
  t.true(granted instanceof Error || granted.every((g) => g.qos === 128), JSON.stringify(granted));
});
