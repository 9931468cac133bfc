/**
 * An AWS IoT Core stand-in for tests (never shipped): aedes behind MQTT over WebSocket on `/mqtt`, over
 * TLS with a test CA, each handshake SigV4-verified, each connection acting as the principal its
 * credentials belong to, every request decided by IAM over that principal's policies, within IoT Core's
 * quotas. The rules and where AWS documents each: rules.ts, broker-hooks.ts, sigv4-verify.ts.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:https";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Aedes } from "aedes" with { "resolution-mode": "import" };
import { WebSocketServer, createWebSocketStream } from "ws";
import { installIotRules, type StandInEvent } from "./broker-hooks";
import { Principals, type Identity } from "./principals";
import { IOT_LIMITS, type IotLimits } from "./rules";
import { verifyPresignedUpgrade } from "./sigv4-verify";
import { testTls } from "./tls";

export type { StandInEvent } from "./broker-hooks";
export type { Identity, PolicyDocument } from "./principals";

export interface StandInOptions {
  region?: string;
  accountId?: string;
  /** Lower quotas, for tests of the quota behaviour that should not take seconds. */
  limits?: Partial<IotLimits>;
}

export class IotCoreStandIn {
  /** Every event so far, in order. */
  readonly events: StandInEvent[] = [];
  private readonly listeners = new Set<(event: StandInEvent) => void>();
  private readonly forwardListeners = new Set<(clientId: string, topic: string, payload: Buffer) => void>();
  private closing?: Promise<void>;

  /** aedes' internals the stand-in reads: retained messages and connected clients. */
  private get internals(): {
    persistence: { createRetainedStreamCombi(topics: string[]): AsyncIterable<{ payload: Buffer }> };
    clients: Record<string, { id: string; conn: { destroy(): void } }>;
  } {
    return this.broker as never;
  }

  private constructor(
    /** `localhost:PORT`: what `--endpoint` and a stub's `PULUMI_LIVE_ENDPOINT` take. */
    readonly endpoint: string,
    readonly port: number,
    /** The test CA's PEM file: `--ca-file`, and a host's `NODE_EXTRA_CA_CERTS`. */
    readonly caFile: string,
    readonly region: string,
    readonly principals: Principals,
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    private readonly broker: Aedes,
  ) {}

  static async start(options: StandInOptions = {}): Promise<IotCoreStandIn> {
    const region = options.region ?? "eu-west-1";
    const principals = new Principals(options.accountId ?? "123456789012");
    const tls = await testTls();
    // aedes is an ES module; this package compiles to CommonJS.
    const { Aedes: AedesBroker } = await import("aedes");
    const broker = await AedesBroker.createBroker({ concurrency: 1000, queueLimit: 1000 });
    const server = createServer({ key: tls.key, cert: tls.cert, ca: tls.ca, minVersion: "TLSv1.2" });
    const wss = new WebSocketServer({ noServer: true });
    const identityOf = new WeakMap<IncomingMessage, Identity>();
    const standIn: IotCoreStandIn = new IotCoreStandIn(
      "",
      0,
      tls.caFile,
      region,
      principals,
      server,
      wss,
      broker,
    );
    const record = (event: StandInEvent) => standIn.record(event);
    const forwarded = (clientId: string, topic: string, payload: Buffer) => {
      for (const listener of standIn.forwardListeners) listener(clientId, topic, payload);
    };
    installIotRules(broker, {
      region,
      limits: { ...IOT_LIMITS, ...options.limits },
      principals,
      identityOf,
      record,
      forwarded,
    });

    // protocols.md: clients must send SNI; connections without it are refused.
    server.on("secureConnection", (socket: TLSSocket) => {
      socket.on("error", () => undefined);
      if (!socket.servername) {
        record({ type: "refused", reason: "TLS without SNI" });
        socket.destroy();
      }
    });
    server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on("error", () => undefined);
      void verifyPresignedUpgrade({
        path: request.url ?? "/",
        headers: request.headers,
        region,
        secretFor: (accessKeyId) => principals.get(accessKeyId),
      })
        .then((verdict) => {
          if (!verdict.ok) {
            record({ type: "refused", reason: `WebSocket handshake: ${verdict.reason}` });
            socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
            return;
          }
          identityOf.set(request, principals.get(verdict.accessKeyId)!);
          wss.handleUpgrade(request, socket, head, (ws) => {
            const stream = createWebSocketStream(ws);
            stream.on("error", () => ws.terminate());
            broker.handle(stream, request);
          });
        })
        .catch(() => socket.destroy());
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    Object.assign(standIn, { endpoint: `localhost:${port}`, port });
    return standIn;
  }

  private record(event: StandInEvent): void {
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }

  get accountId(): string {
    return this.principals.accountId;
  }

  /** `arn:aws:iot:REGION:ACCOUNT:KIND/REST`. */
  arn(kind: "client" | "topic" | "topicfilter", rest: string): string {
    return `arn:aws:iot:${this.region}:${this.accountId}:${kind}/${rest}`;
  }

  /** The first event (past or future) that matches; rejects after `timeoutMs`. */
  event(match: (event: StandInEvent) => boolean, timeoutMs = 15_000): Promise<StandInEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const listener = (event: StandInEvent) => {
        if (!match(event)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(event);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`no matching stand-in event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  /** The retained message of `topic`, as a new subscriber would get it. */
  async retained(topic: string): Promise<Buffer | undefined> {
    let found: Buffer | undefined;
    for await (const packet of this.internals.persistence.createRetainedStreamCombi([topic]))
      found = packet.payload;
    return found;
  }

  /** Observes every message on `filter` from the broker's side (no principal, no quota); returns the stop. */
  watch(filter: string, onMessage: (topic: string, payload: Buffer) => void): () => void {
    const deliver = (packet: { topic: string; payload: Buffer }, done: () => void) => {
      onMessage(packet.topic, Buffer.from(packet.payload));
      done();
    };
    this.broker.subscribe(filter, deliver as never, () => undefined);
    return () => this.broker.unsubscribe(filter, deliver as never, () => undefined);
  }

  /**
   * Resolves once a client acknowledges (PUBACK) a QoS 1 message handed to it that matches: proof that
   * it has the message, which watching from the broker's side is not. Rejects after `timeoutMs`.
   */
  acked(
    match: (clientId: string, topic: string, payload: Buffer) => boolean,
    timeoutMs = 15_000,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiting = new Set<string>();
      const onForward = (clientId: string, topic: string, payload: Buffer) => {
        if (match(clientId, topic, payload)) waiting.add(clientId);
      };
      // aedes reports a PUBACK with its client only: the first after the handing over is the one.
      const onAck = (_packet: unknown, client: { id: string }) => {
        if (!waiting.has(client.id)) return;
        done();
        resolve();
      };
      const done = () => {
        clearTimeout(timer);
        this.forwardListeners.delete(onForward);
        this.broker.off("ack", onAck as never);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching PUBACK within ${timeoutMs} ms`));
      }, timeoutMs);
      this.forwardListeners.add(onForward);
      this.broker.on("ack", onAck as never);
    });
  }

  /** Client ids connected now. */
  clients(): string[] {
    return Object.keys(this.internals.clients);
  }

  /** Cuts the connections whose client id matches, as a network loss would (their last wills are published). */
  drop(match: (clientId: string) => boolean): number {
    const clients = Object.values(this.internals.clients).filter((client) => match(client.id));
    for (const client of clients) client.conn.destroy();
    return clients.length;
  }

  /** Closes every connection and the server; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const client of this.wss.clients) client.terminate();
      this.server.closeAllConnections?.();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    })();
    return this.closing;
  }
}
