/**
 * Who owns the stack, as one session sees it: an explicit state and a pure transition function over the
 * readings of the presence topic. `session.ts` publishes what the transitions ask for.
 *
 * The rules: the newest session owns the stack, newest by `(epoch, sessionId)`; a session takes an epoch
 * past every one it saw on the topic when it joined, so it is newer than the session it replaces whatever
 * the clocks say. A session yields only to a strictly newer one it has not seen as older before; anything
 * else on the topic (an older session's presence or last will, a replayed capture, an empty or unopenable
 * payload) is repaired by announcing again, at most once per repair interval.
 */
import { isNewer, type PresenceMessage, type PresenceReading } from "../protocol";

export type SessionPhase =
  /** Subscribed, reading what the topic holds before announcing. */
  | "joining"
  | "serving"
  /** Reconnected after a loss: reading the topic again before announcing again. */
  | "rejoining"
  /** A newer session owns the stack: this one runs nothing new and never publishes presence again. */
  | "taken-over"
  | "closing";

export interface PresenceState {
  readonly sessionId: string;
  readonly epoch: number;
  readonly phase: SessionPhase;
  /** Whether this session's current presence says draining. */
  readonly draining: boolean;
  /** Sessions seen as older than this one: none of them ever takes the stack from it. */
  readonly older: readonly string[];
}

export type PresenceEvent =
  /** A publish on the presence topic; `retained` when the broker delivered it for a new subscription. */
  | { kind: "reading"; reading: PresenceReading; retained: boolean }
  /** The join (or rejoin) wait ended without a retained reading. */
  | { kind: "settled" }
  /** The connection is back after a loss. */
  | { kind: "resumed" }
  | { kind: "draining" }
  | { kind: "closing" };

export type PresenceAction =
  | { kind: "none" }
  /** Publish this session's presence now. */
  | { kind: "announce" }
  /** Publish this session's presence again, rate-limited: the topic holds something else. */
  | { kind: "repair" }
  /** A newer session owns the stack. */
  | { kind: "yield"; to: PresenceMessage };

/** Older sessions remembered at most (the oldest are forgotten first). */
const MAX_OLDER = 256;

export function initialPresence(sessionId: string, epoch: number): PresenceState {
  return { sessionId, epoch, phase: "joining", draining: false, older: [] };
}

function withOlder(state: PresenceState, sessionId: string): PresenceState {
  if (state.older.includes(sessionId)) return state;
  return { ...state, older: [...state.older, sessionId].slice(-MAX_OLDER) };
}

const none: PresenceAction = { kind: "none" };

/** One step: the next state and what to publish. */
export function presenceTransition(
  state: PresenceState,
  event: PresenceEvent,
): { state: PresenceState; action: PresenceAction } {
  const { phase } = state;
  if (phase === "taken-over") return { state, action: none };
  if (phase === "closing") {
    // Closing publishes nothing new, but a newer session must not have its presence cleared by this one.
    if (event.kind !== "reading" || event.reading.kind !== "presence") return { state, action: none };
    const other = event.reading.presence;
    if (other.sessionId === state.sessionId || state.older.includes(other.sessionId))
      return { state, action: none };
    if (!isNewer(other, state)) return { state, action: none };
    return { state: { ...state, phase: "taken-over" }, action: { kind: "yield", to: other } };
  }
  switch (event.kind) {
    case "closing":
      return { state: { ...state, phase: "closing" }, action: none };
    case "draining":
      return { state: { ...state, draining: true }, action: { kind: "announce" } };
    case "resumed":
      return { state: { ...state, phase: "rejoining" }, action: none };
    case "settled":
      if (phase === "serving") return { state, action: none };
      return { state: { ...state, phase: "serving" }, action: { kind: "announce" } };
    case "reading":
      return onReading(state, event.reading, event.retained);
  }
}

function onReading(
  state: PresenceState,
  reading: PresenceReading,
  retained: boolean,
): { state: PresenceState; action: PresenceAction } {
  const waiting = state.phase === "joining" || state.phase === "rejoining";
  const first = { kind: "announce" } as const;
  if (reading.kind !== "presence") {
    // Cleared or unopenable. While waiting only what was retained before counts: a live publish of
    // garbage then is repaired once this session announces anyway.
    if (waiting && !retained) return { state, action: none };
    return { state: { ...state, phase: "serving" }, action: waiting ? first : { kind: "repair" } };
  }
  const other = reading.presence;
  if (other.sessionId === state.sessionId) {
    // Its own presence as last published: nothing to do. Anything else of its own (its last will after a
    // reconnect, a replay of an earlier message) is repaired.
    const current = other.online && !!other.draining === state.draining && other.epoch === state.epoch;
    if (current) return { state: { ...state, phase: "serving" }, action: none };
    if (waiting && !retained) return { state, action: none };
    return { state: { ...state, phase: "serving" }, action: waiting ? first : { kind: "repair" } };
  }
  if (state.phase === "joining" && retained) {
    // What the topic held before this session joined is older than it, by definition of joining later.
    const joined = withOlder({ ...state, epoch: Math.max(state.epoch, other.epoch + 1) }, other.sessionId);
    return { state: { ...joined, phase: "serving" }, action: first };
  }
  if (!state.older.includes(other.sessionId) && isNewer(other, state)) {
    return { state: { ...state, phase: "taken-over" }, action: { kind: "yield", to: other } };
  }
  const next = withOlder(state, other.sessionId);
  if (waiting && !retained) return { state: next, action: none };
  return { state: { ...next, phase: "serving" }, action: waiting ? first : { kind: "repair" } };
}
