/**
 * A fault-injecting MQTT proxy: clients connect to it over WebSocket as they would to the broker, and it
 * forwards each MQTT packet to the broker (over WebSocket, or plain TCP to mosquitto's plain listener) and
 * back, dropping, duplicating, reordering and delaying PUBLISH packets on a seeded schedule, and cutting
 * or pausing whole connections when told. Only PUBLISH packets are tampered with packet by packet: the
 * MQTT session itself (CONNECT, SUBSCRIBE, PING) then still works, as it does on a real network where a
 * loss shows as a stall or a cut, while messages are lost, doubled and reordered as a broker may.
 */
import type { AddressInfo } from "node:net";
import { connect as tcpConnect, type Socket } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { MqttFramer, clientIdOfConnect, packetType, PUBLISH } from "./mqtt-framer";
import type { Random } from "./random";

export type FaultKind = "drop" | "duplicate" | "reorder" | "delay" | "cut" | "pause";

/** Per-packet fault probabilities (each 0..1), applied to PUBLISH packets in both directions. */
export interface PacketFaults {
  drop: number;
  duplicate: number;
  reorder: number;
  delay: number;
  /** A delay holds its direction of the connection (order kept) for this long, in ms. */
  delayMs: [number, number];
}

export const NO_FAULTS: PacketFaults = { drop: 0, duplicate: 0, reorder: 0, delay: 0, delayMs: [0, 0] };

/** Where the proxy forwards to. */
export type Upstream = { kind: "ws"; url: string } | { kind: "tcp"; port: number };

/** How long a packet held for reordering waits for a successor before it goes alone (ms). */
const REORDER_WAIT_MS = 100;

/** One direction of one connection: a queue that faults can hold, and the writer at its end. */
class Direction {
  private readonly queue: Buffer[] = [];
  private heldUntil = 0;
  private timer?: NodeJS.Timeout;
  private swapped?: { packet: Buffer; timer: NodeJS.Timeout };
  closed = false;

  constructor(
    private readonly write: (packet: Buffer) => void,
    private readonly now: () => number,
  ) {}

  push(packet: Buffer): void {
    if (this.closed) return;
    this.queue.push(packet);
    this.pump();
  }

  /** Sends `packet` after the next one (or alone, if none comes soon). */
  pushLater(packet: Buffer): void {
    if (this.swapped) {
      // Two reorders in a row: the first goes now, behind nothing.
      this.releaseSwapped();
    }
    const timer = setTimeout(() => this.releaseSwapped(), REORDER_WAIT_MS);
    this.swapped = { packet, timer };
  }

  /** Called after a packet was queued: the held one goes right behind it. */
  afterNext(): void {
    if (this.swapped) this.releaseSwapped();
  }

  private releaseSwapped(): void {
    const swapped = this.swapped;
    if (!swapped) return;
    this.swapped = undefined;
    clearTimeout(swapped.timer);
    this.push(swapped.packet);
  }

  hold(ms: number): void {
    this.heldUntil = Math.max(this.heldUntil, this.now() + ms);
    this.pump();
  }

  pump(): void {
    if (this.closed) return;
    const wait = this.heldUntil - this.now();
    if (wait > 0) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.pump(), wait);
      return;
    }
    for (let packet = this.queue.shift(); packet; packet = this.queue.shift()) this.write(packet);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.swapped) clearTimeout(this.swapped.timer);
    this.queue.length = 0;
  }
}

/** One client's connection through the proxy. */
export class ProxiedConnection {
  clientId = "";
  readonly openedAt: number;
  private readonly up: Direction;
  private readonly down: Direction;
  private closed = false;

  constructor(
    private readonly proxy: FaultProxy,
    private readonly client: WebSocket,
    private readonly upstream: { write(data: Buffer): void; close(): void },
  ) {
    this.openedAt = Date.now();
    this.up = new Direction((packet) => upstream.write(packet), Date.now);
    this.down = new Direction((packet) => {
      if (client.readyState === WebSocket.OPEN) client.send(packet);
    }, Date.now);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** A packet from the client on its way to the broker. */
  fromClient(packet: Buffer): void {
    if (!this.clientId && packetType(packet) === 1) this.clientId = clientIdOfConnect(packet);
    this.proxy.route(this.up, packet);
  }

  /** A packet from the broker on its way to the client. */
  fromBroker(packet: Buffer): void {
    this.proxy.route(this.down, packet);
  }

  /** Both directions stop for `ms`, then go on with what they held: a laptop asleep. */
  pause(ms: number): void {
    this.up.hold(ms);
    this.down.hold(ms);
  }

  /** Drops the connection on both sides at once, without a goodbye. */
  cut(): void {
    if (this.closed) return;
    this.closed = true;
    this.up.close();
    this.down.close();
    this.client.terminate();
    this.upstream.close();
  }
}

/** The fault-injecting proxy itself. */
export class FaultProxy {
  readonly counts: Record<FaultKind, number> = {
    drop: 0,
    duplicate: 0,
    reorder: 0,
    delay: 0,
    cut: 0,
    pause: 0,
  };
  readonly connections = new Set<ProxiedConnection>();
  faults: PacketFaults = NO_FAULTS;
  /** While set, new connections are closed at once: the network is down for every newcomer. */
  refuse = false;
  private constructor(
    private readonly server: WebSocketServer,
    private readonly random: Random,
    readonly url: string,
  ) {}

  static async start(upstream: Upstream, random: Random): Promise<FaultProxy> {
    const server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      handleProtocols: (protocols) => (protocols.has("mqtt") ? "mqtt" : false),
    });
    await new Promise<void>((resolve) => server.once("listening", resolve));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const proxy = new FaultProxy(server, random, url);
    server.on("connection", (client) => proxy.accept(client, upstream));
    return proxy;
  }

  private accept(client: WebSocket, target: Upstream): void {
    if (this.refuse) {
      client.terminate();
      return;
    }
    const fromClient = new MqttFramer();
    const fromBroker = new MqttFramer();
    const pendingUp: Buffer[] = [];
    let upstreamReady = false;
    let writeUp: (data: Buffer) => void = (data) => pendingUp.push(data);
    let closeUp: () => void = () => undefined;
    const connection = new ProxiedConnection(this, client, {
      write: (data) => (upstreamReady ? writeUp(data) : pendingUp.push(data)),
      close: () => closeUp(),
    });
    this.connections.add(connection);
    const end = () => {
      connection.cut();
      this.connections.delete(connection);
    };
    if (target.kind === "ws") {
      const socket = new WebSocket(target.url, ["mqtt"]);
      socket.binaryType = "nodebuffer";
      socket.on("open", () => {
        upstreamReady = true;
        writeUp = (data) => socket.readyState === WebSocket.OPEN && socket.send(data);
        for (const data of pendingUp.splice(0)) writeUp(data);
      });
      socket.on("message", (data: Buffer) => {
        for (const packet of fromBroker.push(data)) connection.fromBroker(packet);
      });
      socket.on("close", end);
      socket.on("error", end);
      closeUp = () => socket.terminate();
    } else {
      const socket: Socket = tcpConnect(target.port, "127.0.0.1");
      socket.on("connect", () => {
        upstreamReady = true;
        writeUp = (data) => socket.writable && void socket.write(data);
        for (const data of pendingUp.splice(0)) writeUp(data);
      });
      socket.on("data", (data) => {
        for (const packet of fromBroker.push(data)) connection.fromBroker(packet);
      });
      socket.on("close", end);
      socket.on("error", end);
      closeUp = () => socket.destroy();
    }
    client.on("message", (data: Buffer) => {
      for (const packet of fromClient.push(data)) connection.fromClient(packet);
    });
    client.on("close", end);
    client.on("error", end);
  }

  /** Applies the packet faults to one packet on its way. */
  route(direction: Direction, packet: Buffer): void {
    const f = this.faults;
    if (packetType(packet) !== PUBLISH) {
      direction.push(packet);
      return;
    }
    const r = this.random;
    if (r.chance(f.drop)) {
      this.counts.drop++;
      return;
    }
    if (r.chance(f.delay)) {
      this.counts.delay++;
      direction.hold(r.between(f.delayMs[0], f.delayMs[1]));
    }
    if (r.chance(f.reorder)) {
      this.counts.reorder++;
      direction.pushLater(packet);
      return;
    }
    direction.push(packet);
    direction.afterNext();
    if (r.chance(f.duplicate)) {
      this.counts.duplicate++;
      direction.push(packet);
    }
  }

  /** Connections whose client id passes `filter`, open for at least `minAgeMs`. */
  open(filter: (clientId: string) => boolean, minAgeMs = 0): ProxiedConnection[] {
    const now = Date.now();
    return [...this.connections].filter(
      (c) => c.isOpen && c.clientId && filter(c.clientId) && now - c.openedAt >= minAgeMs,
    );
  }

  cut(connection: ProxiedConnection): void {
    this.counts.cut++;
    connection.cut();
    this.connections.delete(connection);
  }

  pause(connection: ProxiedConnection, ms: number): void {
    this.counts.pause++;
    connection.pause(ms);
  }

  /** Stops every fault; held packets go on. */
  heal(): void {
    this.faults = NO_FAULTS;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.cut();
    this.connections.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
