/**
 * What the terminal shows while serving, as an explicit state and one pure transition per event: the
 * spinner (starting, reconnecting), invocations under way with their buffered logs, and the functions
 * built while starting. `humanReporter` carries out the effects (writes, the spinner, timers).
 */
import type {
  BuildEvent,
  DropEvent,
  ErrorEvent,
  InvokeEvent,
  LogEvent,
  ReadyEvent,
  ResultEvent,
  StatusEvent,
  TakeoverEvent,
} from "../events";
import { statusMessage } from "../events";
import {
  buildLines,
  dropLine,
  errorLine,
  logLine,
  readyBlock,
  resultLines,
  runningLine,
  statusLine,
  takeoverLine,
  type FormatContext,
} from "./human-format";

/** An invocation under way. */
export interface Pending {
  name: string;
  /** Its logs so far, printed under its line when it ends. */
  logs: readonly string[];
  /** Running long: its line is out and its logs go straight out. */
  streaming: boolean;
}

export interface HumanState {
  /** A terminal: a spinner may show. */
  interactive: boolean;
  /** The spinner's text; undefined when none shows. */
  spinner?: string;
  /** Functions built while starting, which the spinner lists. */
  built: readonly string[];
  pending: ReadonlyMap<string, Pending>;
}

export type HumanEvent =
  | { type: "ready"; e: ReadyEvent }
  | { type: "build"; e: BuildEvent }
  | { type: "log"; e: LogEvent }
  | { type: "error"; e: ErrorEvent }
  | { type: "invoke"; e: InvokeEvent }
  | { type: "result"; e: ResultEvent }
  | { type: "drop"; e: DropEvent }
  | { type: "status"; e: StatusEvent }
  | { type: "takeover"; e: TakeoverEvent }
  /** The invocation's stream-after timer fired: it runs long. */
  | { type: "running-long"; requestId: string }
  /** Serving ends; `line` is the summary. */
  | { type: "summary"; line: string };

export type Effect =
  /** Lines, above the spinner when one shows. */
  | { type: "print"; text: string }
  /** Show the spinner with this text, or remove it (`text` undefined). */
  | { type: "spinner"; text?: string }
  /** Start (or cancel) the timer after which a pending invocation streams. */
  | { type: "timer"; requestId: string; on: boolean };

export interface Transition {
  state: HumanState;
  effects: Effect[];
}

export function initialState(interactive: boolean): Transition {
  const state: HumanState = { interactive, built: [], pending: new Map() };
  return interactive
    ? { state: { ...state, spinner: "starting…" }, effects: [{ type: "spinner", text: "starting…" }] }
    : { state, effects: [] };
}

function withPending(state: HumanState, requestId: string, pending?: Pending): HumanState {
  const next = new Map(state.pending);
  if (pending) next.set(requestId, pending);
  else next.delete(requestId);
  return { ...state, pending: next };
}

function stopSpinner(state: HumanState): Transition {
  return state.spinner === undefined
    ? { state, effects: [] }
    : { state: { ...state, spinner: undefined }, effects: [{ type: "spinner" }] };
}

/** The next state, and what to show, after `event`. */
export function step(state: HumanState, event: HumanEvent, c: FormatContext): Transition {
  const print = (text: string): Effect => ({ type: "print", text });
  switch (event.type) {
    case "ready":
    case "summary": {
      const stopped = stopSpinner(state);
      const text = event.type === "ready" ? readyBlock(c, event.e) : event.line;
      const cancel: Effect[] =
        event.type === "summary"
          ? [...state.pending.keys()].map((requestId) => ({ type: "timer", requestId, on: false }))
          : [];
      return { state: stopped.state, effects: [...stopped.effects, ...cancel, print(text)] };
    }
    case "build": {
      const { e } = event;
      if (!(e.first && state.spinner !== undefined)) return { state, effects: [print(buildLines(c, e))] };
      const built = [...state.built, e.name];
      const spinner = `starting… built ${built.join(", ")}`;
      return {
        state: { ...state, built, spinner },
        effects: [{ type: "spinner", text: spinner }, print(buildLines(c, e))],
      };
    }
    case "log": {
      const { e } = event;
      const pending = state.pending.get(e.requestId);
      if (pending && !pending.streaming) {
        const logs = [...pending.logs, e.line];
        return { state: withPending(state, e.requestId, { ...pending, logs }), effects: [] };
      }
      return { state, effects: [print(logLine(c, e.requestId, e.line))] };
    }
    case "error": {
      const stopped = stopSpinner(state);
      return { state: stopped.state, effects: [...stopped.effects, print(errorLine(c, event.e.message))] };
    }
    case "invoke": {
      const { e } = event;
      return {
        state: withPending(state, e.requestId, { name: e.name, logs: [], streaming: false }),
        effects: [{ type: "timer", requestId: e.requestId, on: true }],
      };
    }
    case "running-long": {
      const pending = state.pending.get(event.requestId);
      if (!pending || pending.streaming) return { state, effects: [] };
      const text =
        runningLine(c, pending.name, event.requestId) +
        pending.logs.map((line) => logLine(c, event.requestId, line)).join("");
      return {
        state: withPending(state, event.requestId, { ...pending, logs: [], streaming: true }),
        effects: [print(text)],
      };
    }
    case "result": {
      const { e } = event;
      const pending = state.pending.get(e.requestId);
      return {
        state: withPending(state, e.requestId),
        effects: [
          { type: "timer", requestId: e.requestId, on: false },
          print(resultLines(c, e, pending?.logs ?? [])),
        ],
      };
    }
    case "drop":
      return { state, effects: [print(dropLine(c, event.e))] };
    case "takeover":
      return { state, effects: [print(takeoverLine(c, event.e))] };
    case "status": {
      const { e } = event;
      if (e.kind === "connection" && e.state === "interrupted" && state.interactive) {
        // Lost: the spinner says so until the connection is back, instead of a line per retry.
        const spinner = `${e.target} connection${e.connection ? ` ${e.connection}` : ""} lost; reconnecting${e.detail ? `: ${e.detail}` : ""}`;
        return { state: { ...state, spinner }, effects: [{ type: "spinner", text: spinner }] };
      }
      const back = e.kind === "connection" && e.state === "resumed";
      const stopped = back ? stopSpinner(state) : { state, effects: [] };
      return { state: stopped.state, effects: [...stopped.effects, print(statusLine(c, statusMessage(e)))] };
    }
  }
}
