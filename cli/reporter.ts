/** Everything `serve` tells its user: lines for people on a terminal, or NDJSON events with `--json`. */
import type { BuildEvent, ErrorEvent, LogEvent, ReadyEvent } from "./events";
import { statusMessage } from "./events";
import type { FormatContext } from "./output/human-format";
import { duration } from "./output/human-format";
import { initialState, step, type Effect, type HumanEvent, type HumanState } from "./output/human-view";
import { Spinner } from "./output/spinner";
import { Stats, type Summary } from "./output/stats";
import { painter } from "./output/style";
import type { SessionEvents } from "./session-types";

export type { ReadyFunction, ReadyTrigger } from "./events";
export { describeTrigger } from "./output/human-format";

/** The session's events and the server's; `--json` turns each into one NDJSON line. */
export interface Reporter extends SessionEvents {
  ready(e: ReadyEvent): void;
  build(e: BuildEvent): void;
  log(e: LogEvent): void;
  error(e: ErrorEvent): void;
  summary(): void;
}

type Write = (text: string) => void;

/** NDJSON: the first line is `{"type":"ready",...}`; then invoke, result, build, log, error, status events. */
export function jsonReporter(write: Write): Reporter {
  const emit = (type: string, body: object) =>
    write(JSON.stringify({ type, time: Date.now(), ...body }) + "\n");
  const stats = new Stats();
  return {
    ready: (e) => emit("ready", e),
    build: (e) => emit("build", e),
    log: (e) => emit("log", e),
    error: (e) => emit("error", e),
    invoke: (e) => emit("invoke", e),
    result: (e) => {
      stats.add(e);
      emit("result", { ...e, ok: !e.error });
    },
    drop: (e) => emit("drop", e),
    // Typed fields for scripts, and the line people read as `message`.
    status: (e) => emit("status", { kind: "notice", ...e, message: statusMessage(e) }),
    takeover: (e) => emit("takeover", e),
    summary: () => emit("summary", stats.summary()),
  };
}

/** How the human reporter writes, usually from {@link terminalOptions}. */
export interface HumanReporterOptions {
  /** ANSI colours. */
  color: boolean;
  /** A terminal: a spinner shows while starting and reconnecting. @default false */
  interactive?: boolean;
  /** Paths in stacks and code frames are shown relative to this folder. @default process.cwd() */
  cwd?: string;
  /**
   * Quick invocations print as one line with their logs under it; one running longer than this (ms)
   * prints its line at once and streams its logs. @default 1000
   */
  streamAfterMs?: number;
}

/** Colour and spinner only for a terminal, and no colour when `NO_COLOR` is set (no-color.org). */
export function terminalOptions(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
): Pick<HumanReporterOptions, "color" | "interactive"> {
  const tty = stream.isTTY === true;
  return { color: tty && !env.NO_COLOR, interactive: tty && env.TERM !== "dumb" };
}

/** The exit summary for people. */
export function summaryLine(s: Summary): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const parts = [plural(s.invocations, "invocation"), plural(s.errors, "error")];
  if (s.invocations > 0) {
    parts.push(plural(s.coldStarts, "cold start"), `p50 ${duration(s.p50)}`, `p95 ${duration(s.p95)}`);
  }
  return parts.join(", ") + "\n";
}

/**
 * Lines for people: one per invocation, logs indented under it, colour when the terminal takes it. The
 * display state and its transitions are `output/human-view`; this carries out their effects.
 */
export function humanReporter(write: Write, options: HumanReporterOptions): Reporter {
  const paint = painter(options.color);
  const context: FormatContext = { paint, cwd: options.cwd ?? process.cwd() };
  const spinner = options.interactive ? new Spinner(write, (frame) => paint("cyan", frame)) : undefined;
  const timers = new Map<string, NodeJS.Timeout>();
  const stats = new Stats();
  let state: HumanState;

  const apply = (effects: readonly Effect[]) => {
    for (const effect of effects) {
      if (effect.type === "print") {
        if (spinner) spinner.print(effect.text);
        else write(effect.text);
      } else if (effect.type === "spinner") {
        if (effect.text === undefined) spinner?.stop();
        else spinner?.start(effect.text);
      } else if (effect.on) {
        const timer = setTimeout(
          () => handle({ type: "running-long", requestId: effect.requestId }),
          options.streamAfterMs ?? 1000,
        );
        timers.set(effect.requestId, timer.unref());
      } else {
        clearTimeout(timers.get(effect.requestId));
        timers.delete(effect.requestId);
      }
    }
  };
  const handle = (event: HumanEvent) => {
    const next = step(state, event, context);
    state = next.state;
    apply(next.effects);
  };
  const start = initialState(options.interactive === true);
  state = start.state;
  apply(start.effects);

  return {
    ready: (e) => handle({ type: "ready", e }),
    build: (e) => handle({ type: "build", e }),
    log: (e) => handle({ type: "log", e }),
    error: (e) => handle({ type: "error", e }),
    invoke: (e) => handle({ type: "invoke", e }),
    result: (e) => {
      stats.add(e);
      handle({ type: "result", e });
    },
    drop: (e) => handle({ type: "drop", e }),
    status: (e) => handle({ type: "status", e }),
    takeover: (e) => handle({ type: "takeover", e }),
    summary: () => handle({ type: "summary", line: summaryLine(stats.summary()) }),
  };
}
