import test from "ava";
import { humanReporter, jsonReporter, terminalOptions } from "../../cli/reporter";
import { tempProject } from "../runtime/temp-project";

const ID = "0a1b2c3d-0000-4000-8000-00000000002a";

function collect() {
  const out: string[] = [];
  return { out, write: (s: string) => void out.push(s), text: () => out.join("") };
}

test("an invocation is one line with its duration and cold start, its logs indented under it", (t) => {
  const { write, text } = collect();
  const r = humanReporter(write, { color: false, cwd: "/nowhere" });
  r.invoke({ name: "api", requestId: ID, envId: "e1", bytes: 2 });
  r.log({ name: "api", requestId: ID, stream: "stdout", line: "first" });
  r.log({ name: "api", requestId: ID, stream: "stderr", line: "second" });
  r.result({ name: "api", requestId: ID, durationMs: 12.4, coldStart: true });
  r.invoke({ name: "api", requestId: "ffff", envId: "e1", bytes: 2 });
  r.result({ name: "api", requestId: "ffff", durationMs: 3.21, coldStart: false });
  r.summary();
  t.is(
    text(),
    "✓ api 0a1b2c3d  12 ms  cold\n  │ first\n  │ second\n" +
      "✓ api ffff  3.2 ms\n" +
      "2 invocations, 0 errors, 1 cold start, p50 12 ms, p95 12 ms\n",
  );
});

test("a handler error shows a code frame of the source line and the source-mapped stack", async (t) => {
  const project = await tempProject({
    "src/api.ts": "export const handler = () => {\n  const a = 1;\n  throw new Error(`boom ${a}`);\n};\n",
  });
  t.teardown(() => project.remove());
  const { write, text } = collect();
  const r = humanReporter(write, { color: false, cwd: project.root });
  r.invoke({ name: "api", requestId: ID, envId: "e1", bytes: 2 });
  r.result({
    name: "api",
    requestId: ID,
    durationMs: 40,
    coldStart: false,
    error: {
      errorType: "Error",
      errorMessage: "boom 1",
      trace: [
        "Error: boom 1",
        `    at handler (${project.path("src/api.ts")}:3:9)`,
        "    at node:internal/x:1:1",
      ],
    },
  });
  t.is(
    text(),
    "✗ api 0a1b2c3d  40 ms\n" +
      "    Error: boom 1\n" +
      "    src/api.ts:3:9\n" +
      "        1 │ export const handler = () => {\n" +
      "        2 │   const a = 1;\n" +
      "      > 3 │   throw new Error(`boom ${a}`);\n" +
      "          │         ^\n" +
      "        4 │ };\n" +
      "        5 │\n" +
      "      at handler (src/api.ts:3:9)\n" +
      "      at node:internal/x:1:1\n",
  );
});

test("a build failure shows esbuild's message, indented", (t) => {
  const { write, text } = collect();
  const r = humanReporter(write, { color: false });
  r.build({ name: "api", ok: true, durationMs: 20, first: true });
  r.build({
    name: "api",
    ok: false,
    durationMs: 5,
    first: false,
    error: '✘ [ERROR] Expected ";"\n\n    src/api.ts:1:4:',
  });
  t.is(
    text(),
    '✓ built api in 20 ms\n✗ build of api failed; invocations fail until it is fixed\n  ✘ [ERROR] Expected ";"\n\n      src/api.ts:1:4:\n',
  );
});

test("a long invocation prints its line at once and streams its logs", async (t) => {
  const { out, write } = collect();
  let streaming: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (streaming = resolve));
  const r = humanReporter(
    (s) => {
      write(s);
      if (s.includes("running…")) streaming();
    },
    { color: false, streamAfterMs: 1 },
  );
  r.invoke({ name: "job", requestId: ID, envId: "e1", bytes: 2 });
  r.log({ name: "job", requestId: ID, stream: "stdout", line: "before" });
  await started;
  r.log({ name: "job", requestId: ID, stream: "stdout", line: "after" });
  r.result({ name: "job", requestId: ID, durationMs: 1500, coldStart: false });
  t.is(out.join(""), "→ job 0a1b2c3d running…\n  │ before\n  │ after\n✓ job 0a1b2c3d  1500 ms\n");
});

test("colour per request on a terminal; NO_COLOR and pipes are plain; a spinner only on a terminal", (t) => {
  t.deepEqual(terminalOptions({ isTTY: true }, {}), { color: true, interactive: true });
  t.deepEqual(terminalOptions({ isTTY: true }, { NO_COLOR: "1" }), { color: false, interactive: true });
  t.deepEqual(terminalOptions({ isTTY: false }, {}), { color: false, interactive: false });
  const { write, text } = collect();
  const r = humanReporter(write, { color: true, interactive: true });
  t.is(text(), "\r\u001b[2K\u001b[36m⠋\u001b[39m starting…");
  r.ready({ mode: "local", functions: [{ name: "api", handler: "src/api.handler" }] });
  t.true(
    text().startsWith(
      "\r\u001b[2K\u001b[36m⠋\u001b[39m starting…\r\u001b[2K\u001b[1mpulumi-live local mode\u001b[22m\n",
    ),
  );
  const plain = collect();
  humanReporter(plain.write, { color: false }).invoke({ name: "api", requestId: ID, envId: "e", bytes: 0 });
  t.is(plain.text(), "");
});

test("--json keeps its contract: the first line is the ready event", (t) => {
  const { write, out } = collect();
  const r = jsonReporter(write);
  r.ready({ mode: "local", functions: [], inspector: "ws://127.0.0.1:9229/x" });
  r.invoke({ name: "api", requestId: ID, envId: "e", bytes: 2 });
  r.result({ name: "api", requestId: ID, durationMs: 5, coldStart: true });
  const lines = out.map((line) => JSON.parse(line));
  t.like(lines[0], { type: "ready", mode: "local", inspector: "ws://127.0.0.1:9229/x" });
  t.like(lines[2], { type: "result", ok: true, coldStart: true, durationMs: 5 });
});

test("the ready block says how to call a function, with --endpoint when the gateway is not on port 3000", (t) => {
  const call = (gateway: string) => {
    const { write, text } = collect();
    humanReporter(write, { color: false, cwd: "/nowhere" }).ready({
      mode: "local",
      gateway,
      functions: [{ name: "api", handler: "src/api.handler" }],
    });
    return text()
      .split("\n")
      .find((line) => line.includes("Call one"));
  };
  t.is(
    call("http://127.0.0.1:3000"),
    "  Call one: curl http://127.0.0.1:3000/api/  or  pulumi-live invoke api --local",
  );
  t.is(
    call("http://127.0.0.1:45123"),
    "  Call one: curl http://127.0.0.1:45123/api/  or  pulumi-live invoke api --local --endpoint http://127.0.0.1:45123",
  );
});

// The defect: the reporter took any status whose text said "interrupted" for a lost connection.
test("a notice that mentions an interruption is a line, not the reconnecting spinner", (t) => {
  const { write, text } = collect();
  const r = humanReporter(write, { color: false, interactive: true });
  r.ready({ mode: "aws", functions: [] });
  const before = text().length;
  r.status({ message: "request r1 failed: Error: interrupted system call" });
  t.is(text().slice(before), "• request r1 failed: Error: interrupted system call\n");
  r.summary();
});
