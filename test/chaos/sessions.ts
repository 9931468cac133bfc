/**
 * The `serve` processes of a chaos run: started, taken over, restarted and killed on the orchestrator's
 * word, each watched for the one thing it must never do: exit on its own.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { SessionReport, SessionSettings } from "./session-process";

export interface ServeProcess {
  /** Start order: the higher, the newer. */
  order: number;
  child: ChildProcess;
  sessionId?: string;
  /** Set when it said a newer session took over. */
  takenOverBy?: string;
  /** Why the orchestrator ended it, if it did. */
  endedBy?: "SIGKILL" | "SIGINT";
  exited: boolean;
  last?: Extract<SessionReport, { type: "state" }>;
}

export class ServeProcesses {
  readonly all: ServeProcess[] = [];
  /** Things that must never happen, as they happened. */
  readonly violations: string[] = [];
  peakRss = 0;
  peakHeldBytes = 0;
  peakAnswerBytes = 0;
  private readonly waiting = new Map<ServeProcess, (ok: boolean) => void>();

  constructor(private readonly settings: SessionSettings) {}

  /** Starts one more `serve`; resolves once it serves (false if it failed to start). */
  start(): Promise<boolean> {
    const child = fork(path.join(__dirname, "session-process.js"), [], {
      env: { ...process.env, CHAOS_SESSION: JSON.stringify(this.settings) },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const serve: ServeProcess = { order: this.all.length, child, exited: false };
    this.all.push(serve);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on("message", (report: SessionReport) => this.onReport(serve, report));
    child.on("exit", (code, signal) => {
      serve.exited = true;
      this.waiting.get(serve)?.(false);
      const allowed = serve.endedBy !== undefined || serve.takenOverBy !== undefined;
      if (!allowed) {
        this.violations.push(
          `session ${serve.sessionId ?? `#${serve.order}`} exited on its own (${signal ?? `code ${code}`}): ${stderr}`,
        );
      }
    });
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.violations.push(`session #${serve.order} did not start serving within 30 s: ${stderr}`);
        resolve(false);
      }, 30_000);
      this.waiting.set(serve, (ok) => {
        clearTimeout(timer);
        this.waiting.delete(serve);
        resolve(ok);
      });
    });
  }

  private onReport(serve: ServeProcess, report: SessionReport): void {
    switch (report.type) {
      case "serving":
        serve.sessionId = report.sessionId;
        this.waiting.get(serve)?.(true);
        return;
      case "takeover":
        serve.takenOverBy = report.by;
        return;
      case "state":
        serve.last = report;
        this.peakRss = Math.max(this.peakRss, report.rss);
        this.peakHeldBytes = Math.max(this.peakHeldBytes, report.heldBytes);
        this.peakAnswerBytes = Math.max(this.peakAnswerBytes, report.remembered);
        return;
      case "failed":
        this.violations.push(`session #${serve.order} failed: ${report.message}`);
        return;
    }
  }

  /** The processes still running. */
  alive(): ServeProcess[] {
    return this.all.filter((s) => !s.exited);
  }

  newest(): ServeProcess | undefined {
    return this.alive().at(-1);
  }

  /** Ends a `serve` as `kill -9` or Ctrl+C would; resolves once it exited. */
  async end(serve: ServeProcess, signal: "SIGKILL" | "SIGINT"): Promise<void> {
    if (serve.exited) return;
    serve.endedBy = signal;
    const exited = new Promise<void>((resolve) => serve.child.once("exit", () => resolve()));
    serve.child.kill(signal);
    await exited;
  }

  /** Asks every running session for its state; resolves with the answers within `ms`. */
  async states(ms = 2000): Promise<ServeProcess[]> {
    const alive = this.alive();
    await Promise.all(
      alive.map(
        (serve) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ms);
            const onMessage = (report: SessionReport) => {
              if (report.type !== "state") return;
              clearTimeout(timer);
              serve.child.off("message", onMessage);
              resolve();
            };
            serve.child.on("message", onMessage);
            serve.child.send({ type: "state" }, () => undefined);
          }),
      ),
    );
    return alive;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.alive().map((serve) => this.end(serve, "SIGINT")));
  }
}
