import type { Reporter } from "../../cli/reporter";

type Event = { type: string } & Record<string, any>;

/** A Reporter that keeps every event, and lets a test await the next event that matches. */
export class RecordingReporter implements Reporter {
  readonly events: Event[] = [];
  private waiters: { match: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];

  private push(type: string, body: object): void {
    const event = { type, ...body } as Event;
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(event)) return true;
      w.resolve(event);
      return false;
    });
  }

  /** Resolves with the first event from now on that matches; rejects after `timeoutMs`. */
  next(match: (e: Event) => boolean, timeoutMs = 10_000): Promise<Event> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching event within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
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
