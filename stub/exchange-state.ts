/**
 * One request's round trip as an explicit state and a pure transition function; `exchange.ts` does the
 * publishing and the timers the transitions ask for.
 */
import type { AckMessage, ErrorMessage, PresenceMessage, ResponseMessage } from "../protocol";

/** What a pending request receives on the stub's response topic. */
export type Reply = AckMessage | ResponseMessage | ErrorMessage;

export interface ExchangeState {
  /** The session the request is addressed to: the one online when it was sent, or the one after. */
  readonly target: string;
  /**
   * `sent`: waiting for the target's ack; `acked`: waiting for the response; `redirected`: the target
   * will not run it (closing or taken over) and the session after it is not known yet; `done`.
   */
  readonly phase: "sent" | "acked" | "redirected" | "done";
  /** Whether the last publish carried the function's environment. */
  readonly withEnvironment: boolean;
}

export type ExchangeEvent =
  | { kind: "reply"; reply: Reply }
  /** The known presence changed (`undefined`: no session online). */
  | { kind: "presence"; presence: PresenceMessage | undefined }
  | { kind: "ack-timeout" }
  | { kind: "response-timeout" }
  | { kind: "publish-failed"; message: string };

/** Why a round trip failed; each becomes a `PulumiLive.<code>` error with its message. */
export type ExchangeFailure = "NoSession" | "NoAck" | "SessionEnded" | "Timeout" | "PublishFailed";

export type ExchangeEffect =
  /** Publish the request (again) to `sessionId`, and restart the wait for its ack. */
  | { kind: "send"; sessionId: string; environment: boolean }
  | { kind: "acked" }
  /** The target has the function's environment now: later requests may go without it. */
  | { kind: "environment-delivered"; sessionId: string }
  | { kind: "answer"; reply: ResponseMessage | ErrorMessage }
  | { kind: "fail"; failure: ExchangeFailure; detail?: string };

export function initialExchange(target: string, withEnvironment: boolean): ExchangeState {
  return { target, phase: "sent", withEnvironment };
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
      return state.phase === "acked"
        ? { state, effects: [] }
        : done(state, { kind: "fail", failure: "NoAck" });
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

function onReply(
  state: ExchangeState,
  reply: Reply,
  presence: PresenceMessage | undefined,
  functionId: string,
): Step {
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
