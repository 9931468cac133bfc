import test from "ava";
import type { RequestMessage } from "../../protocol";
import { ExactlyOnce, classifyRequest, type RequestFacts } from "../../cli/session-requests";
import { apiRequest } from "./harness";

const topic = "pulumi-live/test/p/s/0a1b2c3d4e5f/res/api/env1";
const request = (extra: Partial<RequestMessage> = {}): RequestMessage => ({
  ...apiRequest("r1", topic, "me"),
  deadline: 10_000,
  ...extra,
});
const facts = (extra: Partial<RequestFacts> = {}): RequestFacts => ({
  request: request(),
  now: 1000,
  sessionId: "me",
  serves: true,
  responseTopic: topic,
  accepting: true,
  taken: undefined,
  environment: { A: "1" },
  ...extra,
});
const answer = { type: "response", requestId: "r1", result: 1 } as const;

const table: [string, Partial<RequestFacts>, string][] = [
  ["a new request", {}, "run"],
  ["a function this session does not serve", { serves: false }, "foreign"],
  ["a response topic other than the stub's own", { responseTopic: `${topic}x` }, "foreign"],
  ["past its deadline", { now: 10_000 }, "expired"],
  ["for another session", { request: request({ sessionId: "other" }) }, "elsewhere"],
  ["for any session", { request: request({ sessionId: undefined }) }, "run"],
  ["taken, still running", { taken: { until: 10_000, answerBytes: 0, answerUntil: 0 } }, "duplicate"],
  [
    "taken and answered",
    { taken: { until: 10_000, answer, answerBytes: 10, answerUntil: 5000 } },
    "duplicate:response",
  ],
  [
    "taken, then this session stopped taking new ones",
    { accepting: false, taken: { until: 10_000, answerBytes: 0, answerUntil: 0 } },
    "duplicate",
  ],
  ["new, while closing or taken over", { accepting: false }, "redirect"],
  ["an environment not known here", { environment: undefined }, "need-environment"],
  ["expired beats everything after it", { now: 20_000, accepting: false, environment: undefined }, "expired"],
];

for (const [name, extra, expected] of table) {
  test(`classify: ${name}`, (t) => {
    const verdict = classifyRequest(facts(extra));
    const detail = verdict.kind === "duplicate" && verdict.answer ? `:${verdict.answer.type}` : "";
    t.is(verdict.kind + detail, expected);
  });
}

test("exactly once: an invocation is remembered until its deadline, its answer only for a while", (t) => {
  const table = new ExactlyOnce({ answerMs: 60_000 });
  const invocation = { requestId: "r1", deadline: 1_000_000 };
  t.is(table.get(invocation, 0), undefined);
  table.take(invocation);
  table.keepAnswer(invocation, answer, 10, 1000);
  t.deepEqual(table.get(invocation, 2000)?.answer, answer);
  // 62 s after the answer, well before the deadline (a 900 s debugging timeout): no answer kept, but
  // the invocation still is, so a replay is answered as a duplicate and never runs again.
  const later = table.get(invocation, 63_000);
  t.truthy(later);
  t.is(later?.answer, undefined);
  t.is(table.keptAnswerBytes, 0);
  t.truthy(table.get(invocation, 999_999));
  // Past the deadline it is forgotten: any copy arriving now is dropped as expired anyway.
  t.is(table.get(invocation, 1_000_001), undefined);
  t.is(table.size, 0);
});

test("exactly once: Lambda's retry (same request id, new deadline) is a new invocation", (t) => {
  const table = new ExactlyOnce();
  table.take({ requestId: "r1", deadline: 5000 });
  t.truthy(table.get({ requestId: "r1", deadline: 5000 }, 1000));
  t.is(table.get({ requestId: "r1", deadline: 95_000 }, 1000), undefined);
});

test("exactly once: large answers are not kept, and kept answers are bounded in total", (t) => {
  const table = new ExactlyOnce({ maxAnswerBytes: 100, maxAnswersBytes: 250 });
  const ids = ["a", "b", "c", "d"].map((requestId) => ({ requestId, deadline: 10_000 }));
  for (const id of ids) table.take(id);
  table.keepAnswer(ids[0], answer, 101, 0);
  t.is(table.get(ids[0], 0)?.answer, undefined);
  for (const id of ids.slice(1)) table.keepAnswer(id, answer, 100, 0);
  t.is(table.keptAnswerBytes, 200);
  t.is(table.get(ids[1], 0)?.answer, undefined, "the oldest answer went first");
  t.truthy(table.get(ids[3], 0)?.answer);
  t.is(table.size, 4);
});
