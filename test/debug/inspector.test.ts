import { readFile } from "node:fs/promises";
import test from "ava";
import { startLocalServer } from "../../cli/commands/serve-local";
import { RecordingReporter } from "../helpers/recorder";
import { tempProject } from "../runtime/temp-project";
import { Cdp } from "./cdp";
import { generatedPosition, inlineSourceMap, originalPosition } from "./source-map";

// Type-only lines first, so the bundle's lines differ from the source's.
const HANDLER = `interface Order {
  id: string;
  quantity: number;
}
type Priced = Order & { total: number };

export async function handler(event: Order): Promise<Priced> {
  const unit = 5;
  const total = event.quantity * unit;
  return { ...event, total };
}
`;
/** `const total = ...` */
const BREAK_LINE = 9;

test("a breakpoint set in the .ts source pauses the worker there; resumed, the invocation completes", async (t) => {
  const project = await tempProject({ "src/orders.ts": HANDLER });
  t.teardown(() => project.remove());
  const reporter = new RecordingReporter();
  const server = await startLocalServer({
    functions: ["orders=src/orders.handler"],
    cwd: project.root,
    port: 0,
    watch: false,
    record: false,
    inspect: "127.0.0.1:0",
    reporter,
  });
  t.teardown(() => server.close());
  t.regex(server.inspector ?? "", /^ws:\/\/127\.0\.0\.1:\d+\//);
  t.is(reporter.events[reporter.events.length - 1].inspector, server.inspector);

  // The bundle names the real .ts file and carries its text: what lets breakpoints bind in the source.
  const build = server.builders.get("orders")?.current();
  if (!build?.ok) return t.fail("the build failed");
  const source = project.path("src/orders.ts");
  const { sources, contents } = inlineSourceMap(build.file);
  t.deepEqual(sources, [source]);
  t.deepEqual(contents, [HANDLER]);

  const cdp = await Cdp.connect(server.inspector ?? "");
  t.teardown(() => cdp.close());
  const attached = cdp.next((e) => e.method === "NodeWorker.attachedToWorker");
  await cdp.send("NodeWorker.enable", { waitForDebuggerOnStart: true });

  const response = fetch(`${server.gateway}/2015-03-31/functions/orders/invocations`, {
    method: "POST",
    body: JSON.stringify({ id: "o-1", quantity: 3 }),
  });
  const { params: worker } = await attached;
  t.true(worker.waitingForDebugger);
  t.is(worker.workerInfo.title, "[worker 1] orders " + worker.workerInfo.title.split(" ").pop());
  const sessionId = worker.sessionId as string;

  await cdp.sendToWorker(sessionId, "Debugger.enable");
  const at = generatedPosition(build.file, source, BREAK_LINE);
  const escaped = build.file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const breakpoint = await cdp.sendToWorker(sessionId, "Debugger.setBreakpointByUrl", {
    urlRegex: `^(file://)?${escaped}$`,
    ...at,
  });
  t.truthy(breakpoint.breakpointId);
  // A worker that waited for the debugger stops once on its first line, as debuggers expect: go on.
  const startPause = cdp.next((e) => e.method === "worker:Debugger.paused");
  await cdp.sendToWorker(sessionId, "Runtime.runIfWaitingForDebugger");
  t.is((await startPause).params.reason, "Break on start");
  const paused = cdp.next((e) => e.method === "worker:Debugger.paused");
  await cdp.sendToWorker(sessionId, "Debugger.resume");

  const { params: pause } = await paused;
  const frame = pause.callFrames[0];
  t.deepEqual(originalPosition(build.file, frame.location.lineNumber, frame.location.columnNumber), {
    source,
    line: BREAK_LINE,
  });
  t.deepEqual(pause.hitBreakpoints, [breakpoint.breakpointId]);
  const quantity = await cdp.sendToWorker(sessionId, "Debugger.evaluateOnCallFrame", {
    callFrameId: frame.callFrameId,
    expression: "event.quantity",
  });
  t.is(quantity.result.value, 3);
  await cdp.sendToWorker(sessionId, "Debugger.resume");

  const answer = await response;
  t.is(answer.status, 200);
  t.deepEqual(await answer.json(), { id: "o-1", quantity: 3, total: 15 });
  t.is(await readFile(source, "utf8"), HANDLER);
});
