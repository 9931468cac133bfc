import WebSocket from "ws";
import { EventLog } from "../helpers/wait";

type Params = Record<string, any>;
interface Event {
  method: string;
  params: Params;
}

/**
 * A minimal Chrome DevTools Protocol client over the inspector's WebSocket, with worker sessions
 * reached through the `NodeWorker` domain, as debuggers reach worker threads.
 */
export class Cdp {
  private nextId = 1;
  private readonly calls = new Map<number, { resolve(v: Params): void; reject(e: Error): void }>();
  private readonly events = new EventLog<Event>("CDP event");
  private readonly workerCalls = new Map<number, { resolve(v: Params): void; reject(e: Error): void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => this.receive(JSON.parse(data.toString("utf8")) as Params));
  }

  static async connect(url: string): Promise<Cdp> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => socket.once("open", resolve).once("error", reject));
    return new Cdp(socket);
  }

  /** Calls a method on the process's main thread. */
  send(method: string, params: Params = {}): Promise<Params> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.calls.set(id, { resolve, reject }));
  }

  /** Calls a method inside a worker attached through `NodeWorker`. */
  sendToWorker(sessionId: string, method: string, params: Params = {}): Promise<Params> {
    const id = this.nextId++;
    const message = JSON.stringify({ id, method, params });
    void this.send("NodeWorker.sendMessageToWorker", { sessionId, message });
    return new Promise((resolve, reject) => this.workerCalls.set(id, { resolve, reject }));
  }

  /** The next event (of the main thread, or `worker:<method>` from a worker) that matches. */
  next(match: (e: Event) => boolean, timeoutMs = 20_000): Promise<Event> {
    return this.events.next(match, { timeoutMs });
  }

  close(): void {
    this.socket.close();
  }

  private receive(message: Params): void {
    if (message.id !== undefined) return this.settle(this.calls, message);
    if (message.method === "NodeWorker.receivedMessageFromWorker") {
      const inner = JSON.parse(message.params.message as string) as Params;
      if (inner.id !== undefined) return this.settle(this.workerCalls, inner);
      return this.emit({
        method: `worker:${inner.method as string}`,
        params: { ...(inner.params as Params), sessionId: message.params.sessionId as string },
      });
    }
    this.emit(message as Event);
  }

  private settle(calls: Map<number, { resolve(v: Params): void; reject(e: Error): void }>, m: Params) {
    const call = calls.get(m.id as number);
    calls.delete(m.id as number);
    if (m.error) call?.reject(new Error(JSON.stringify(m.error)));
    else call?.resolve(m.result as Params);
  }

  private emit(event: Event): void {
    this.events.push(event);
  }
}
