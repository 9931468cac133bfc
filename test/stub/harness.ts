import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { WebSocketServer, createWebSocketStream } from "ws";
import { connectAsync, type MqttClient } from "mqtt";
import {
  PROTOCOL_VERSION,
  Reassembler,
  encodeMessage,
  stackTopics,
  type Message,
  type PresenceMessage,
  type RequestMessage,
  type StackTopics,
} from "../../protocol";
import type { LambdaContext } from "../../stub/lambda-context";

/** A real aedes broker served over WebSocket on 127.0.0.1, on a free port. */
export async function startBroker(): Promise<{ url: string; close(): Promise<void> }> {
  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker();
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  server.on("connection", (socket) => broker.handle(createWebSocketStream(socket)));
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/** What a hand-made session does with each request it receives. */
export type RequestHandler = (request: RequestMessage, session: FakeSession) => void | Promise<void>;

/**
 * A serving session made by hand from the protocol's functions and a plain mqtt.js client: it announces a
 * retained sealed presence, receives requests and answers as told.
 */
export class FakeSession {
  readonly requests: RequestMessage[] = [];
  readonly topics: StackTopics;
  onRequest: RequestHandler = (request, session) => session.answer(request, request.requestId);
  /** This session's place in the order of sessions; a later id of the same epoch is newer too. */
  epoch = 1;
  private readonly reassembler: Reassembler;

  private constructor(
    readonly client: MqttClient,
    readonly key: Buffer,
    prefix: string,
    public sessionId: string,
  ) {
    this.topics = stackTopics(prefix);
    this.reassembler = new Reassembler(key);
    client.on("message", (topic, payload) => {
      const message = this.reassembler.push(topic, payload);
      if (message?.type !== "request") return;
      this.requests.push(message);
      void this.onRequest(message, this);
    });
  }

  static async start(
    url: string,
    key: Buffer,
    prefix: string,
    sessionId = "session-1",
  ): Promise<FakeSession> {
    const client = await connectAsync(url, {
      protocolVersion: 4,
      clientId: `test-session-${sessionId}-${prefix}`,
    });
    const session = new FakeSession(client, key, prefix, sessionId);
    await client.subscribeAsync(session.topics.requests, { qos: 1 });
    return session;
  }

  presenceMessage(online = true, functions = ["api"]): PresenceMessage {
    return {
      type: "presence",
      sessionId: this.sessionId,
      epoch: this.epoch,
      online,
      protocol: PROTOCOL_VERSION,
      functions,
      startedAt: 1,
    };
  }

  /** Publishes the retained presence; `undefined` clears it with an empty payload. */
  async announce(presence: PresenceMessage | undefined): Promise<void> {
    const frames = presence ? encodeMessage(this.key, this.topics.presence, presence) : [Buffer.alloc(0)];
    for (const frame of frames)
      await this.client.publishAsync(this.topics.presence, frame, { qos: 1, retain: true });
  }

  async send(topic: string, message: Message): Promise<void> {
    for (const frame of encodeMessage(this.key, topic, message))
      await this.client.publishAsync(topic, frame, { qos: 1 });
  }

  async ack(request: RequestMessage, needEnvironment?: boolean): Promise<void> {
    await this.send(request.responseTopic, {
      type: "ack",
      requestId: request.requestId,
      sessionId: this.sessionId,
      ...(needEnvironment ? { needEnvironment } : {}),
    });
  }

  /** Acks and answers with `result`. */
  async answer(request: RequestMessage, result: unknown, logs?: string): Promise<void> {
    await this.ack(request);
    await this.send(request.responseTopic, { type: "response", requestId: request.requestId, result, logs });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** A Lambda-shaped context like the Node.js runtime's. */
export function lambdaContext(awsRequestId: string, remainingMs = 10_000): LambdaContext {
  const end = Date.now() + remainingMs;
  return {
    awsRequestId,
    functionName: "shop-dev-api",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:shop-dev-api",
    memoryLimitInMB: "128",
    logGroupName: "/aws/lambda/shop-dev-api",
    logStreamName: "2024/01/02/[$LATEST]abc",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => end - Date.now(),
  };
}
