/**
 * Breakpoints in Python handlers: with debugpy in the interpreter, `serve --inspect` makes each Python
 * process listen for a debugger; a DAP client (what VS Code's "attach" does) sets a breakpoint in the
 * .py file and the next invocation stops there.
 */
import test from "ava";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { startLocalServer } from "../../cli/commands/serve-local";
import { findPython, skipReason } from "../helpers/python";
import { RecordingReporter } from "../helpers/recorder";
import { tempProject } from "../runtime/temp-project";
import { Dap } from "./dap";

const HANDLER = `def price(order):
    unit = 5
    total = order["quantity"] * unit
    return total


def handler(event, context):
    return {"id": event["id"], "total": price(event)}
`;
/** `total = ...` */
const BREAK_LINE = 3;

const debugpyPython = findPython("import debugpy");
const skip = skipReason(debugpyPython, "a python3 with debugpy", "apt-get install -y python3-debugpy");

if (skip) {
  test.skip(`Python breakpoints (${skip})`, () => undefined);
} else {
  test("a breakpoint set in the .py file stops the invocation there; resumed, it completes", async (t) => {
    const project = await tempProject({ "src/orders.py": HANDLER });
    t.teardown(() => project.remove());
    const reporter = new RecordingReporter();
    const server = await startLocalServer({
      functions: ["orders=src/orders.handler"],
      cwd: project.root,
      port: 0,
      watch: false,
      record: false,
      inspect: "127.0.0.1:0",
      python: debugpyPython,
      reporter,
    });
    t.teardown(() => server.close());
    const lambda = new LambdaClient({
      endpoint: server.gateway,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
    t.teardown(() => lambda.destroy());
    const invoke = async (payload: unknown) => {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: "orders", Payload: Buffer.from(JSON.stringify(payload)) }),
      );
      return JSON.parse(Buffer.from(out.Payload ?? []).toString()) as unknown;
    };

    // The first invocation starts the function's process, which says where its debugger listens.
    const listening = reporter.next(
      (e) => e.type === "status" && /debugpy\) listening on/.test(e.message),
      30_000,
    );
    t.deepEqual(await invoke({ id: "o-1", quantity: 1 }), { id: "o-1", total: 5 });
    const [, host, port] = /listening on (\S+):(\d+)$/.exec((await listening).message)!;

    const dap = await Dap.connect(host, Number(port));
    t.teardown(() => dap.close());
    await dap.request("initialize", {
      clientID: "pulumi-live-test",
      adapterID: "debugpy",
      linesStartAt1: true,
      columnsStartAt1: true,
      pathFormat: "path",
    }).response;
    const attached = dap.request("attach", { justMyCode: true }).response;
    await dap.event("initialized");
    const source = project.path("src/orders.py");
    const breakpoints = await dap.request("setBreakpoints", {
      source: { path: source },
      breakpoints: [{ line: BREAK_LINE }],
    }).response;
    t.is(breakpoints.body.breakpoints[0].line, BREAK_LINE);
    await dap.request("configurationDone").response;
    await attached;

    const answer = invoke({ id: "o-2", quantity: 3 });
    const stopped = await dap.event("stopped");
    t.is(stopped.body.reason, "breakpoint");
    const stack = await dap.request("stackTrace", { threadId: stopped.body.threadId }).response;
    t.like(stack.body.stackFrames[0], { name: "price", line: BREAK_LINE, source: { path: source } });
    await dap.request("continue", { threadId: stopped.body.threadId }).response;
    t.deepEqual(await answer, { id: "o-2", total: 15 });
  });
}
