/**
 * One request's round trip as an explicit state and a pure transition function; `exchange.ts` does the
 * publishing and the timers the transitions ask for.
 */
import type {
  AckMessage,
  ErrorMessage,
  PresenceMessage,
  ResponseMessage,
  StreamEndMessage,
  StreamMessage,
} from "../protocol";
import {
  initialStream,
  receiveStream,
  streamComplete,
  streamWritten,
  type StreamEffect,
  type StreamReceive,
} from "./stream-state";

/** What a pending request receives on the stub's response topic. */
export type Reply = AckMessage | ResponseMessage | ErrorMessage | StreamMessage;

/** How a round trip ends well: one response, an error, or a stream's end (once every byte is written). */
export type Answer = ResponseMessage | ErrorMessage | StreamEndMessage;

export interface ExchangeState {
  /** The session the request is addressed to: the one online when it was sent, or the one after. */
  readonly target: string;
  /**
   * `sent`: waiting for the target's ack; `acked`: waiting for the response; `redirected`: the target
   * will not run it (closing or taken over) and the session after it is not known yet; `streaming`: the
   * answer is a stream, being written; `done`.
   */
  readonly phase: "sent" | "acked" | "redirected" | "streaming" | "done";
  /** Whether the last publish carried the function's environment. */
  readonly withEnvironment: boolean;
  /** The stream being received, while streaming. */
  readonly stream?: StreamReceive;
  /** What the stub's request offered: a window means the answer may be a stream. */
  readonly window?: number;
}

export type ExchangeEvent =
  | { kind: "reply"; reply: Reply }
  /** The known presence changed (`undefined`: no session online). */
  | { kind: "presence"; presence: PresenceMessage | undefined }
  | { kind: "ack-timeout" }
  | { kind: "response-timeout" }
  | { kind: "publish-failed"; message: string }
  /** The writer finished stream message `seq`. */
  | { kind: "written"; seq: number }
  /** The stub's own response stream closed before the end: its caller went away. */
  | { kind: "caller-gone" };

/** Why a round trip failed; each becomes a `PulumiLive.<code>` error with its message. */
export type ExchangeFailure =
  "NoSession" | "NoAck" | "SessionEnded" | "Timeout" | "PublishFailed" | "CallerGone";

export type ExchangeEffect =
  /** Publish the request (again) to `sessionId`, and restart the wait for its ack. */
  | { kind: "send"; sessionId: string; environment: boolean }
  | { kind: "acked" }
  /** The target has the function's environment now: later requests may go without it. */
  | { kind: "environment-delivered"; sessionId: string }
  | { kind: "answer"; reply: Answer }
  | { kind: "fail"; failure: ExchangeFailure; detail?: string }
  /** Write a stream message, or grant the session more (see `stream-state.ts`). */
  | StreamEffect
  /** Tell the session the caller went away, so the handler's stream stops. */
  | { kind: "cancel" };

export function initialExchange(target: string, withEnvironment: boolean, window?: number): ExchangeState {
  return { target, phase: "sent", withEnvironment, ...(window ? { window } : {}) };
}

/** The session online that takes new requests for `functionId`, if any (a draining one does not). */
export function servingSession(
  presence: PresenceMessage | undefined,
  functionId: string,
): PresenceMessage | undefined {
  if (!presence || !presence.online || presence.draining) return undefined;
  return presence.functions.length === 0 || presence.functions.includes(functionId) ? presence : undefined;
}

type Step = { state: ExchangeState; effects: ExchangeEffect[] };

const done = (state: ExchangeState, effect: ExchangeEffect): Step => ({
  state: { ...state, phase: "done" },
  effects: [effect],
});

/**
 * After a redirect: once a newer session takes requests, the request goes to it, with the environment.
 * While the presence still names the redirecting session, the newer one's announcement is on its way (a
 * takeover); if nobody takes new requests (stopping, or gone), the request fails as having no session, so
 * the relay's fallback can run.
 */
function followRedirect(
  state: ExchangeState,
  presence: PresenceMessage | undefined,
  functionId: string,
): Step {
  const next = servingSession(presence, functionId);
  if (next?.sessionId === state.target) return { state, effects: [] };
  if (!next) return done(state, { kind: "fail", failure: "NoSession" });
  return {
    state: { target: next.sessionId, phase: "sent", withEnvironment: true },
    effects: [{ kind: "send", sessionId: next.sessionId, environment: true }],
  };
}

/** One step of a round trip. `presence` is the known presence at the time of the event. */
export function exchangeTransition(
  state: ExchangeState,
  event: ExchangeEvent,
  presence: PresenceMessage | undefined,
  functionId: string,
): Step {
  if (state.phase === "done") return { state, effects: [] };
  switch (event.kind) {
    case "ack-timeout":
      // An ack that never comes: the named session is gone or was never there (a replayed presence).
      return state.phase === "acked" || state.phase === "streaming"
        ? { state, effects: [] }
        : done(state, { kind: "fail", failure: "NoAck" });
    case "written":
      return onWritten(state, event.seq);
    case "caller-gone":
      return {
        state: { ...state, phase: "done" },
        effects: [
          ...(state.phase === "streaming" ? [{ kind: "cancel" } as const] : []),
          { kind: "fail", failure: "CallerGone" },
        ],
      };
    case "response-timeout":
      return done(state, { kind: "fail", failure: "Timeout" });
    case "publish-failed":
      return done(state, { kind: "fail", failure: "PublishFailed", detail: event.message });
    case "presence":
      return onPresence(state, presence, functionId);
    case "reply":
      return onReply(state, event.reply, presence, functionId);
  }
}

function onPresence(state: ExchangeState, presence: PresenceMessage | undefined, functionId: string): Step {
  // The session this request went to, even draining, still answers what it started.
  if (presence?.online && presence.sessionId === state.target) {
    return state.phase === "redirected"
      ? followRedirect(state, presence, functionId)
      : { state, effects: [] };
  }
  if (servingSession(presence, functionId)) {
    // A newer session took over: the one this request went to answers what it started, or redirects what
    // it did not.
    return state.phase === "redirected"
      ? followRedirect(state, presence, functionId)
      : { state, effects: [] };
  }
  return done(state, { kind: "fail", failure: "SessionEnded" });
}

/** Effects of the first answer: it acknowledges the request, and delivers the environment if it went. */
function answered(state: ExchangeState): ExchangeEffect[] {
  const effects: ExchangeEffect[] = [];
  if (state.phase !== "acked") effects.push({ kind: "acked" });
  if (state.withEnvironment && state.phase !== "acked") {
    effects.push({ kind: "environment-delivered", sessionId: state.target });
  }
  return effects;
}

function onStream(state: ExchangeState, message: StreamMessage): Step {
  // Only a stub that offered a stream takes one; a session never streams to any other.
  if (!state.window) return { state, effects: [] };
  const first = state.phase !== "streaming";
  const step = receiveStream(state.stream ?? initialStream(state.window), message);
  return {
    state: { ...state, phase: "streaming", stream: step.state },
    effects: [...(first ? answered(state) : []), ...step.effects],
  };
}

function onWritten(state: ExchangeState, seq: number): Step {
  if (state.phase !== "streaming" || !state.stream) return { state, effects: [] };
  const step = streamWritten(state.stream, seq);
  const next = { ...state, stream: step.state };
  if (!streamComplete(step.state)) return { state: next, effects: step.effects };
  return { state: { ...next, phase: "done" }, effects: [{ kind: "answer", reply: step.state.end! }] };
}

function onReply(
  state: ExchangeState,
  reply: Reply,
  presence: PresenceMessage | undefined,
  functionId: string,
): Step {
  if (reply.type === "stream-start" || reply.type === "stream-chunk" || reply.type === "stream-end") {
    return onStream(state, reply);
  }
  // While streaming, the answer is the stream: a late ack or a stray response changes nothing.
  if (state.phase === "streaming") return { state, effects: [] };
  if (reply.type !== "ack") {
    // A quick answer comes without an ack (the session saves a publish): it acknowledges all the same.
    const effects: ExchangeEffect[] = [];
    if (state.withEnvironment && state.phase !== "acked") {
      effects.push({ kind: "environment-delivered", sessionId: state.target });
    }
    effects.push({ kind: "answer", reply });
    return { state: { ...state, phase: "done" }, effects };
  }
  if (state.phase === "acked") return { state, effects: [] };
  if (reply.redirect) {
    // The session closed or was taken over without running it: the next one will.
    if (reply.sessionId !== state.target) return { state, effects: [] };
    return followRedirect({ ...state, phase: "redirected" }, presence, functionId);
  }
  if (reply.needEnvironment) {
    // Once resent with the environment, a redelivered copy of the first ack is just a duplicate.
    if (state.withEnvironment) return { state, effects: [] };
    return {
      state: { ...state, withEnvironment: true },
      effects: [{ kind: "send", sessionId: state.target, environment: true }],
    };
  }
  const effects: ExchangeEffect[] = [{ kind: "acked" }];
  if (state.withEnvironment) effects.push({ kind: "environment-delivered", sessionId: state.target });
  return { state: { ...state, phase: "acked" }, effects };
}
