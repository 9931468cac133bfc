import test from "ava";
import { PROTOCOL_VERSION, type PresenceMessage, type PresenceReading } from "../../protocol";
import {
  initialPresence,
  presenceTransition,
  type PresenceEvent,
  type PresenceState,
} from "../../cli/session-presence";

const presence = (
  sessionId: string,
  epoch: number,
  extra: Partial<PresenceMessage> = {},
): PresenceReading => ({
  kind: "presence",
  presence: {
    type: "presence",
    sessionId,
    epoch,
    online: true,
    protocol: PROTOCOL_VERSION,
    functions: [],
    startedAt: 1,
    ...extra,
  },
});
const read = (reading: PresenceReading, retained = false): PresenceEvent => ({
  kind: "reading",
  reading,
  retained,
});
const cleared: PresenceReading = { kind: "cleared" };
const garbage: PresenceReading = { kind: "garbage" };

const joining = initialPresence("me", 100);
const serving: PresenceState = { ...joining, phase: "serving" };
const rejoining: PresenceState = { ...joining, phase: "rejoining" };
const knowsOld: PresenceState = { ...serving, older: ["old"] };

/** state, event → phase, epoch, action (and who it yields to), older sessions. */
const table: [string, PresenceState, PresenceEvent, string][] = [
  ["joining, nothing retained", joining, { kind: "settled" }, "serving 100 announce []"],
  [
    "joining over the session it replaces, whose clock is ahead",
    joining,
    read(presence("old", 500), true),
    "serving 501 announce [old]",
  ],
  [
    "joining over an older session's last will",
    joining,
    read(presence("old", 90, { online: false }), true),
    "serving 100 announce [old]",
  ],
  ["joining over garbage", joining, read(garbage, true), "serving 100 announce []"],
  ["a live publish of garbage while joining waits", joining, read(garbage), "joining 100 none []"],
  ["its own echo", serving, read(presence("me", 100)), "serving 100 none []"],
  [
    "its own last will, replayed",
    serving,
    read(presence("me", 100, { online: false })),
    "serving 100 repair []",
  ],
  ["a strictly newer session", serving, read(presence("new", 101)), "taken-over 100 yield:new []"],
  ["same epoch, greater id", serving, read(presence("zz", 100)), "taken-over 100 yield:zz []"],
  ["an older session's presence (a replay)", serving, read(presence("old", 99)), "serving 100 repair [old]"],
  [
    "a session seen as older, whatever its epoch says",
    knowsOld,
    read(presence("old", 10_000)),
    "serving 100 repair [old]",
  ],
  [
    "an older session's last will",
    serving,
    read(presence("old", 99, { online: false })),
    "serving 100 repair [old]",
  ],
  ["the presence cleared", serving, read(cleared), "serving 100 repair []"],
  ["garbage retained", serving, read(garbage), "serving 100 repair []"],
  ["back after a loss", serving, { kind: "resumed" }, "rejoining 100 none []"],
  [
    "back, and a newer session took over meanwhile",
    rejoining,
    read(presence("new", 200), true),
    "taken-over 100 yield:new []",
  ],
  [
    "back, and its own last will is there",
    rejoining,
    read(presence("me", 100, { online: false }), true),
    "serving 100 announce []",
  ],
  ["back, and the broker lost everything", rejoining, { kind: "settled" }, "serving 100 announce []"],
  [
    "back, and its presence is still there",
    rejoining,
    read(presence("me", 100), true),
    "serving 100 none []",
  ],
  ["draining", serving, { kind: "draining" }, "serving 100 announce []"],
  ["closing", serving, { kind: "closing" }, "closing 100 none []"],
  [
    "closing, an older session's presence",
    { ...serving, phase: "closing" },
    read(presence("old", 1)),
    "closing 100 none []",
  ],
  [
    "closing, a newer session",
    { ...serving, phase: "closing" },
    read(presence("new", 101)),
    "taken-over 100 yield:new []",
  ],
  ["taken over: nothing more", { ...serving, phase: "taken-over" }, read(garbage), "taken-over 100 none []"],
];

for (const [name, state, event, expected] of table) {
  test(`presence: ${name}`, (t) => {
    const { state: next, action } = presenceTransition(state, event);
    const what = action.kind === "yield" ? `yield:${action.to.sessionId}` : action.kind;
    t.is(`${next.phase} ${next.epoch} ${what} [${next.older.join(",")}]`, expected);
  });
}

test("presence: draining shows in the state the echo is compared with", (t) => {
  const { state } = presenceTransition(serving, { kind: "draining" });
  t.true(state.draining);
  t.is(presenceTransition(state, read(presence("me", 100, { draining: true }))).action.kind, "none");
  t.is(presenceTransition(state, read(presence("me", 100))).action.kind, "repair");
});
