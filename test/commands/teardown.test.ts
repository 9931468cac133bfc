import test from "ava";
import { startLocalServer } from "../../cli/commands/serve-local";
import { Teardown } from "../../cli/teardown";
import { RecordingReporter } from "../helpers/recorder";
import { tempProject } from "../runtime/temp-project";

test("teardown runs every step, last first; a failing step is reported and the rest still run", async (t) => {
  const teardown = new Teardown();
  const ran: string[] = [];
  teardown.add("the first", async () => void ran.push("first"));
  teardown.add("the second", async () => {
    ran.push("second");
    throw new Error("stuck");
  });
  teardown.add("the third", async () => void ran.push("third"));
  const reports: string[] = [];
  const report = (what: string, error: unknown) => void reports.push(`${what}: ${(error as Error).message}`);
  await Promise.all([teardown.run(report), teardown.run(report)]);
  t.deepEqual(ran, ["third", "second", "first"]);
  t.deepEqual(reports, ["the second: stuck"]);
});

// Before, serve's teardown swallowed every failure: a part that did not close left no trace.
test("serve --local reports a part that fails to close, and closes the others", async (t) => {
  const project = await tempProject({ "api.ts": "export const handler = async () => 'ok';\n" });
  t.teardown(() => project.remove());
  const reporter = new RecordingReporter();
  const server = await startLocalServer({
    functions: ["api=api.handler"],
    cwd: project.root,
    port: 0,
    watch: false,
    record: false,
    reporter,
  });
  const closeSession = server.session.close.bind(server.session);
  // Fault injection on this test's own session: it closes, then says it failed.
  server.session.close = async () => {
    await closeSession();
    throw new Error("the broker did not acknowledge the disconnect");
  };
  await server.close();
  t.deepEqual(
    reporter.events.filter((e) => e.type === "error"),
    [{ type: "error", message: "closing the session failed: the broker did not acknowledge the disconnect" }],
  );
  // The broker, closed after the session's failure, no longer answers.
  await t.throwsAsync(fetch(server.broker.replace(/^ws:/, "http:")));
});
