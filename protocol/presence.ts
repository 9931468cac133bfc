/**
 * Rules of the presence topic that the stub and the session share: what a payload there is, and which of
 * two sessions is the newer. Pure functions; no MQTT here.
 */
import type { PresenceMessage } from "./messages";
import type { Reassembler } from "./reassembly";

/** What one publish on the presence topic turned out to be. */
export type PresenceReading =
  /** An empty payload: someone cleared the retained presence. */
  | { kind: "cleared" }
  | { kind: "presence"; presence: PresenceMessage }
  /** Not openable with the stack's key, or not a presence: never trusted, and the session repairs it. */
  | { kind: "garbage" };

/** Reads one presence payload (always a single frame). */
export function readPresence(reassembler: Reassembler, topic: string, payload: Uint8Array): PresenceReading {
  if (payload.length === 0) return { kind: "cleared" };
  const message = reassembler.push(topic, payload);
  if (message?.type !== "presence" || !isPresence(message)) return { kind: "garbage" };
  return { kind: "presence", presence: message };
}

function isPresence(message: PresenceMessage): boolean {
  return (
    typeof message.sessionId === "string" &&
    typeof message.epoch === "number" &&
    Number.isFinite(message.epoch) &&
    typeof message.online === "boolean" &&
    Array.isArray(message.functions)
  );
}

/** Whether session `a` is newer than session `b`: a greater epoch, or the same epoch and a greater id. */
export function isNewer(
  a: Pick<PresenceMessage, "epoch" | "sessionId">,
  b: Pick<PresenceMessage, "epoch" | "sessionId">,
): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.sessionId > b.sessionId);
}

/**
 * What a stub believes after a presence reading, given what it believed before. A later message of the
 * same session always counts (it goes draining, offline...); another session counts when it is newer, or
 * when nothing is being served now, so an older session's last will or a replayed capture of an old
 * presence never hides the session that serves. Garbage changes nothing.
 */
export function nextKnownPresence(
  known: PresenceMessage | undefined,
  reading: PresenceReading,
): PresenceMessage | undefined {
  if (reading.kind === "garbage") return known;
  if (reading.kind === "cleared") return undefined;
  const next = reading.presence;
  if (!known || known.sessionId === next.sessionId) return next;
  if (!known.online || known.draining) return next;
  return isNewer(next, known) ? next : known;
}
