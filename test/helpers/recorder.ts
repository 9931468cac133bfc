import type { Reporter } from "../../cli/reporter";
import { EventLog } from "./wait";

type Event = { type: string } & Record<string, any>;

/** A Reporter that keeps every event, and lets a test await the next event that matches. */
export class RecordingReporter implements Reporter {
  private readonly kept = new EventLog<Event>("event");
  readonly events = this.kept.events;

  private push(type: string, body: object): void {
    this.kept.push({ type, ...body } as Event);
  }

  /** Resolves with the first event from now on that matches; rejects after `timeoutMs`. */
  next(match: (e: Event) => boolean, timeoutMs = 10_000): Promise<Event> {
    return this.kept.next(match, { timeoutMs });
  }

  ready = (e: object) => this.push("ready", e);
  build = (e: object) => this.push("build", e);
  log = (e: object) => this.push("log", e);
  error = (e: object) => this.push("error", e);
  invoke = (e: object) => this.push("invoke", e);
  result = (e: object) => this.push("result", e);
  drop = (e: object) => this.push("drop", e);
  status = (e: object) => this.push("status", e);
  takeover = (e: object) => this.push("takeover", e);
  summary = () => this.push("summary", {});
}
