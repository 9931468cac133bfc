/** A minimal Debug Adapter Protocol client over TCP, as VS Code speaks to debugpy, for the tests. */
import { connect, type Socket } from "node:net";
import { EventLog } from "../helpers/wait";

export type DapMessage = { seq: number; type: "request" | "response" | "event" } & Record<string, any>;

export class Dap {
  private seq = 0;
  private buffer = Buffer.alloc(0);
  private readonly messages = new EventLog<DapMessage>("DAP message");

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  static connect(host: string, port: number): Promise<Dap> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new Dap(socket)));
      socket.once("error", reject);
    });
  }

  /** Resolves with the first message, seen already or to come, that matches; rejects after `timeoutMs`. */
  next(match: (m: DapMessage) => boolean, timeoutMs = 20_000): Promise<DapMessage> {
    return this.messages.next(match, { seen: true, take: true, timeoutMs });
  }

  event(name: string): Promise<DapMessage> {
    return this.next((m) => m.type === "event" && m.event === name);
  }

  /** Sends a request; `response` resolves with its response (failed responses reject). */
  request(command: string, args: object = {}): { seq: number; response: Promise<DapMessage> } {
    const seq = ++this.seq;
    const body = Buffer.from(JSON.stringify({ seq, type: "request", command, arguments: args }), "utf8");
    this.socket.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.socket.write(body);
    const response = this.next((m) => m.type === "response" && m.request_seq === seq).then((m) => {
      if (!m.success) throw new Error(`${command} failed: ${m.message ?? JSON.stringify(m.body)}`);
      return m;
    });
    return { seq, response };
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())?.[1]);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(
        this.buffer.subarray(end + 4, end + 4 + length).toString("utf8"),
      ) as DapMessage;
      this.buffer = this.buffer.subarray(end + 4 + length);
      this.messages.push(message);
    }
  }
}
