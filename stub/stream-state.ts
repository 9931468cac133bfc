/**
 * Receiving a streamed answer, as an explicit state and pure transitions: stream messages come in any
 * order (IoT Core does not promise one) and maybe twice; they are handed to the writer strictly by `seq`,
 * early ones held (at most what the session may send ahead), copies dropped. Each message the writer has
 * written may grant the session more (`stream-credit`), half a window at a time. `exchange-state.ts`
 * runs this while an exchange is streaming; `exchange.ts` does the writing.
 */
import type { StreamEndMessage, StreamMessage } from "../protocol";

/** Stream messages a streaming stub lets the session send ahead of what it has written. */
export const STREAM_WINDOW = 8;

export interface StreamReceive {
  readonly window: number;
  /** The next `seq` to hand to the writer. */
  readonly next: number;
  /** Messages that came early, by `seq`. */
  readonly held: ReadonlyMap<number, StreamMessage>;
  /** The last `seq` the writer finished. */
  readonly written: number;
  /** The last `seq` granted to the session (-1: only the request's own window). */
  readonly credited: number;
  /** The end, once handed to the writer. */
  readonly end?: StreamEndMessage;
}

export type StreamEffect =
  /** Write this message now (messages come here in `seq` order). */
  | { kind: "deliver"; message: StreamMessage }
  /** Tell the session everything up to `seq` is written. */
  | { kind: "credit"; seq: number };

export function initialStream(window = STREAM_WINDOW): StreamReceive {
  return { window, next: 0, held: new Map(), written: -1, credited: -1 };
}

type Step = { state: StreamReceive; effects: StreamEffect[] };

/** Whether a message can be part of a stream: the start is `seq` 0 and nothing else is. */
function wellFormed(message: StreamMessage): boolean {
  if (!Number.isInteger(message.seq) || message.seq < 0) return false;
  return (message.type === "stream-start") === (message.seq === 0);
}

/** A stream message arrived. */
export function receiveStream(state: StreamReceive, message: StreamMessage): Step {
  const { seq } = message;
  // A copy of one already handed on, one beyond what the session may send yet, or one past the end.
  const tooFar = seq > state.credited + state.window;
  const pastEnd =
    state.end !== undefined || [...state.held.values()].some((m) => m.type === "stream-end" && m.seq < seq);
  if (!wellFormed(message) || seq < state.next || state.held.has(seq) || tooFar || pastEnd) {
    return { state, effects: [] };
  }
  const held = new Map(state.held);
  held.set(seq, message);
  const effects: StreamEffect[] = [];
  let next = state.next;
  let end: StreamEndMessage | undefined = state.end;
  for (let ready = held.get(next); ready; ready = held.get(next)) {
    held.delete(next);
    effects.push({ kind: "deliver", message: ready });
    next++;
    if (ready.type === "stream-end") {
      end = ready;
      held.clear();
      break;
    }
  }
  return { state: { ...state, next, held, ...(end ? { end } : {}) }, effects };
}

/** The writer finished message `seq`: grant more once half a window was written since the last grant. */
export function streamWritten(state: StreamReceive, seq: number): Step {
  const written = Math.max(state.written, seq);
  const after = { ...state, written };
  if (state.end?.seq === seq) return { state: after, effects: [] };
  const half = Math.max(1, Math.ceil(state.window / 2));
  if (written - state.credited < half) return { state: after, effects: [] };
  return { state: { ...after, credited: written }, effects: [{ kind: "credit", seq: written }] };
}

/** Whether the writer has written the end: the stream is complete. */
export function streamComplete(state: StreamReceive): boolean {
  return state.end !== undefined && state.written >= state.end.seq;
}
