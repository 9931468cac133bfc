import test from "ava";
import { PROTOCOL_VERSION, type PresenceMessage } from "../../protocol";
import {
  exchangeTransition,
  initialExchange,
  type ExchangeEffect,
  type ExchangeEvent,
  type ExchangeState,
  type Reply,
} from "../../stub/exchange-state";

const presence = (sessionId: string, extra: Partial<PresenceMessage> = {}): PresenceMessage => ({
  type: "presence",
  sessionId,
  epoch: 1,
  online: true,
  protocol: PROTOCOL_VERSION,
  functions: ["api"],
  startedAt: 1,
  ...extra,
});
const ack = (sessionId: string, extra: object = {}): ExchangeEvent => ({
  kind: "reply",
  reply: { type: "ack", requestId: "r", sessionId, ...extra } as Reply,
});
const response = { type: "response", requestId: "r", result: 1 } as const;

const sent = (withEnvironment = false): ExchangeState => initialExchange("A", withEnvironment);
const acked: ExchangeState = { target: "A", phase: "acked", withEnvironment: false };
const redirected: ExchangeState = { target: "A", phase: "redirected", withEnvironment: false };

/** state, event, known presence → next state (its phase and target) and effects. */
const table: [string, ExchangeState, ExchangeEvent, PresenceMessage | undefined, string, ExchangeEffect[]][] =
  [
    ["ack", sent(), ack("A"), presence("A"), "acked A", [{ kind: "acked" }]],
    [
      "ack of a publish with the environment",
      sent(true),
      ack("A"),
      presence("A"),
      "acked A",
      [{ kind: "acked" }, { kind: "environment-delivered", sessionId: "A" }],
    ],
    ["duplicate ack", acked, ack("A"), presence("A"), "acked A", []],
    [
      "the session asks for the environment",
      sent(),
      ack("A", { needEnvironment: true }),
      presence("A"),
      "sent A",
      [{ kind: "send", sessionId: "A", environment: true }],
    ],
    [
      "asked again after resending it",
      sent(true),
      ack("A", { needEnvironment: true }),
      presence("A"),
      "sent A",
      [],
    ],
    [
      "redirect while the newer session is online",
      sent(),
      ack("A", { redirect: true }),
      presence("B"),
      "sent B",
      [{ kind: "send", sessionId: "B", environment: true }],
    ],
    [
      "redirect before the newer announced",
      sent(),
      ack("A", { redirect: true }),
      presence("A"),
      "redirected A",
      [],
    ],
    [
      "redirect by a stopping session",
      sent(),
      ack("A", { redirect: true }),
      presence("A", { draining: true }),
      "done A",
      [{ kind: "fail", failure: "NoSession" }],
    ],
    ["redirect from another session", sent(), ack("B", { redirect: true }), presence("B"), "sent A", []],
    [
      "the newer session's announcement after a redirect",
      redirected,
      { kind: "presence", presence: presence("B") },
      presence("B"),
      "sent B",
      [{ kind: "send", sessionId: "B", environment: true }],
    ],
    [
      "a newer session while the first runs it",
      acked,
      { kind: "presence", presence: presence("B") },
      presence("B"),
      "acked A",
      [],
    ],
    [
      "the session goes away",
      acked,
      { kind: "presence", presence: undefined },
      undefined,
      "done A",
      [{ kind: "fail", failure: "SessionEnded" }],
    ],
    [
      "the session goes draining",
      acked,
      { kind: "presence", presence: undefined },
      presence("A", { draining: true }),
      "acked A",
      [],
    ],
    [
      "a quick answer without an ack",
      sent(true),
      { kind: "reply", reply: response },
      presence("A"),
      "done A",
      [
        { kind: "environment-delivered", sessionId: "A" },
        { kind: "answer", reply: response },
      ],
    ],
    [
      "no ack in time",
      sent(),
      { kind: "ack-timeout" },
      presence("A"),
      "done A",
      [{ kind: "fail", failure: "NoAck" }],
    ],
    ["a stale ack timer after the ack", acked, { kind: "ack-timeout" }, presence("A"), "acked A", []],
    [
      "no answer in time",
      acked,
      { kind: "response-timeout" },
      presence("A"),
      "done A",
      [{ kind: "fail", failure: "Timeout" }],
    ],
    [
      "the publish fails",
      sent(),
      { kind: "publish-failed", message: "refused" },
      presence("A"),
      "done A",
      [{ kind: "fail", failure: "PublishFailed", detail: "refused" }],
    ],
    [
      "anything once done",
      { target: "A", phase: "done", withEnvironment: false },
      ack("A"),
      presence("A"),
      "done A",
      [],
    ],
  ];

for (const [name, state, event, known, expected, effects] of table) {
  test(`exchange: ${name}`, (t) => {
    const step = exchangeTransition(state, event, known, "api");
    t.is(`${step.state.phase} ${step.state.target}`, expected);
    t.deepEqual(step.effects, effects);
  });
}
