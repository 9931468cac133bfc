import type { mqtt } from "aws-iot-device-sdk-v2";
import { connectAsync } from "mqtt";
import { Reassembler, clientIdPrefix, stackTopics, type PresenceMessage } from "../../protocol";
import type { StackSession } from "../../cli/discovery/stack-export";
import { createRelay, type Relay } from "../../stub/relay";
import { DEFAULT_ACK_TIMEOUT_MS } from "../../stub/config";
import { EventLog } from "../helpers/wait";

export { lambdaContext } from "../stub/harness";

/** The worker handler of the serve tests: records each execution in COUNT_FILE, then waits `waitMs`. */
export const COUNTING_WORKER = `import { appendFileSync } from "node:fs";
export async function handler(event: { id: string; waitMs?: number }) {
  appendFileSync(process.env.COUNT_FILE!, event.id + "\\n");
  await new Promise((resolve) => setTimeout(resolve, event.waitMs ?? 0));
  return { id: event.id, live: process.env.PULUMI_LIVE };
}
`;

/** A relay stub of one function of the stack, through a plain broker, with the function's environment. */
export function stubRelay(
  url: string,
  session: StackSession,
  functionId: string,
  env: Record<string, string>,
): Relay {
  return createRelay(
    {
      prefix: session.prefix,
      functionId,
      key: session.key,
      clientPrefix: clientIdPrefix(
        {
          organization: session.organization,
          project: session.project,
          stack: session.stack,
          id: session.namespaceId,
        },
        "stub",
      ),
      stack: `${session.project}/${session.stack}`,
      broker: { kind: "url", url },
      ackTimeoutMs: DEFAULT_ACK_TIMEOUT_MS,
    },
    { env, log: () => undefined },
  );
}

/** Resolves with the first presence of the stack on the broker that matches; rejects after `timeoutMs`. */
export async function presenceWhere(
  url: string,
  session: StackSession,
  match: (p: PresenceMessage) => boolean,
  timeoutMs = 15_000,
): Promise<PresenceMessage> {
  const topic = stackTopics(session.prefix).presence;
  const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 200 });
  try {
    const presences = new EventLog<PresenceMessage>("presence");
    client.on("message", (t, payload) => {
      const message = new Reassembler(session.key).push(t, payload);
      if (message?.type === "presence") presences.push(message);
    });
    const found = presences.next(match, { seen: true, timeoutMs });
    found.catch(() => undefined); // awaited below, unless subscribing fails first
    await client.subscribeAsync(topic, { qos: 1 });
    return await found;
  } finally {
    await client.endAsync(true);
  }
}

/** An aedes broker over WebSocket on 127.0.0.1 that records each handshake's URL; restartable on its port. */
export async function startAedes(port = 0): Promise<{
  url: string;
  port: number;
  handshakes: string[];
  close(): Promise<void>;
}> {
  const { once } = await import("node:events").then((m) => m.default ?? m);
  const { WebSocketServer, createWebSocketStream } = await import("ws");
  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker();
  const server = new WebSocketServer({ host: "127.0.0.1", port });
  const handshakes: string[] = [];
  server.on("connection", (socket, request) => {
    handshakes.push(request.url ?? "");
    const stream = createWebSocketStream(socket);
    stream.on("error", () => socket.terminate());
    broker.handle(stream, request);
  });
  await once(server, "listening");
  const bound = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${bound}`,
    port: bound,
    handshakes,
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/** Points a built IoT config at a plain `ws://host:port` broker: host and port replaced, TLS dropped, signing kept. */
export function pointAt(url: string): (config: mqtt.MqttConnectionConfig) => mqtt.MqttConnectionConfig {
  const parsed = new URL(url);
  return (config) => ({
    ...config,
    host_name: parsed.hostname,
    port: Number(parsed.port || 80),
    tls_ctx: undefined,
  });
}
