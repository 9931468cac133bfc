import test from "ava";
import type { FormatContext } from "../../cli/output/human-format";
import {
  initialState,
  step,
  type Effect,
  type HumanEvent,
  type HumanState,
} from "../../cli/output/human-view";
import { painter } from "../../cli/output/style";

const plain: FormatContext = { paint: painter(false), cwd: "/project", codeFrame: () => undefined };
const ID = "0a1b2c3d-0000-4000-8000-00000000002a";

function state(over: Partial<HumanState> = {}): HumanState {
  return { interactive: true, built: [], pending: new Map(), ...over };
}
const pending = (logs: string[] = [], streaming = false) => new Map([[ID, { name: "api", logs, streaming }]]);
const print = (text: string): Effect => ({ type: "print", text });

const cases: [string, HumanState, HumanEvent, Partial<HumanState>, Effect[]][] = [
  [
    "a lost connection shows the reconnecting spinner on a terminal",
    state(),
    {
      type: "status",
      e: { kind: "connection", target: "AWS IoT", state: "interrupted", detail: "socket closed" },
    },
    { spinner: "AWS IoT connection lost; reconnecting: socket closed" },
    [{ type: "spinner", text: "AWS IoT connection lost; reconnecting: socket closed" }],
  ],
  [
    "without a terminal it is a line",
    state({ interactive: false }),
    { type: "status", e: { kind: "connection", target: "broker", state: "interrupted" } },
    {},
    [print("• broker connection interrupted\n")],
  ],
  [
    "the connection back removes the spinner and says so",
    state({ spinner: "AWS IoT connection lost; reconnecting" }),
    {
      type: "status",
      e: { kind: "connection", target: "AWS IoT", state: "resumed", detail: "subscribing again" },
    },
    { spinner: undefined },
    [{ type: "spinner" }, print("• AWS IoT connection resumed: subscribing again\n")],
  ],
  [
    "a notice whose text says interrupted is only a line",
    state({ spinner: "starting…" }),
    { type: "status", e: { message: "request r1 failed: interrupted" } },
    { spinner: "starting…" },
    [print("• request r1 failed: interrupted\n")],
  ],
  [
    "a first build while starting joins the spinner",
    state({ spinner: "starting…", built: ["api"] }),
    { type: "build", e: { name: "cron", ok: true, durationMs: 12, first: true } },
    { spinner: "starting… built api, cron", built: ["api", "cron"] },
    [{ type: "spinner", text: "starting… built api, cron" }, print("✓ built cron in 12 ms\n")],
  ],
  [
    "an invocation starts its stream-after timer",
    state(),
    { type: "invoke", e: { name: "api", requestId: ID, envId: "e1", bytes: 2 } },
    { pending: pending() },
    [{ type: "timer", requestId: ID, on: true }],
  ],
  [
    "its logs wait for its line",
    state({ pending: pending(["one"]) }),
    { type: "log", e: { name: "api", requestId: ID, stream: "stdout", line: "two" } },
    { pending: pending(["one", "two"]) },
    [],
  ],
  [
    "running long, its line goes out with the logs so far",
    state({ pending: pending(["one"]) }),
    { type: "running-long", requestId: ID },
    { pending: pending([], true) },
    [print("→ api 0a1b2c3d running…\n  │ one\n")],
  ],
  [
    "then its logs stream",
    state({ pending: pending([], true) }),
    { type: "log", e: { name: "api", requestId: ID, stream: "stderr", line: "three" } },
    {},
    [print("  │ three\n")],
  ],
  [
    "its result ends it: timer off, the line with the buffered logs",
    state({ pending: pending(["one"]) }),
    { type: "result", e: { name: "api", requestId: ID, durationMs: 4, coldStart: true } },
    { pending: new Map() },
    [{ type: "timer", requestId: ID, on: false }, print("✓ api 0a1b2c3d  4.0 ms  cold\n  │ one\n")],
  ],
  [
    "a drop names the function and the reason",
    state(),
    {
      type: "drop",
      e: {
        reason: "expired",
        detail: "request r9 arrived after its deadline",
        functionId: "api",
        function: "api",
        requestId: "r9",
      },
    },
    {},
    [print("dropped a message for api (expired): request r9 arrived after its deadline\n")],
  ],
  [
    "the summary removes the spinner and cancels the timers left",
    state({ spinner: "starting…", pending: pending() }),
    { type: "summary", line: "0 invocations, 0 errors\n" },
    { spinner: undefined },
    [{ type: "spinner" }, { type: "timer", requestId: ID, on: false }, print("0 invocations, 0 errors\n")],
  ],
];

for (const [name, before, event, changes, effects] of cases) {
  test(`view: ${name}`, (t) => {
    const next = step(before, event, plain);
    t.deepEqual(next, { state: { ...before, ...changes }, effects });
  });
}

test("view: a terminal starts with the spinner, a pipe with nothing", (t) => {
  t.deepEqual(initialState(true).effects, [{ type: "spinner", text: "starting…" }]);
  t.deepEqual(initialState(false), { state: state({ interactive: false }), effects: [] });
});
