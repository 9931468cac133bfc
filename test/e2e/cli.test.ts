import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { EventLog } from "../helpers/wait";

const BIN = path.join(__dirname, "../../../bin/pulumi-live.js");
type Line = { type: string } & Record<string, any>;

// The README's main command, as a user runs it: the binary, local mode, NDJSON output, Ctrl+C.
test("serve --local --json: ready first, then build, invoke, log and result events; SIGINT ends with a summary", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-cli-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    path.join(dir, "hello.ts"),
    `export const handler = async (event: { rawPath: string }) => {\n  console.log("serving", event.rawPath);\n  return { statusCode: 200, body: "hello " + event.rawPath };\n};\n`,
  );
  const child = spawn(
    process.execPath,
    [BIN, "serve", "--local", "--port", "0", "--json", "--function", "hello=hello.handler"],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  t.teardown(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"));
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const output = new EventLog<Line>("output line");
  const lines = output.events;
  createInterface({ input: child.stdout }).on("line", (text) => output.push(JSON.parse(text) as Line));
  const next = (match: (l: Line) => boolean) =>
    output.next(match, { seen: true, timeoutMs: 20_000 }).catch((error: Error) => {
      throw new Error(`${error.message}; stderr: ${stderr}`);
    });

  const ready = await next((l) => l.type === "ready");
  t.regex(ready.gateway, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.deepEqual(ready.functions, [
    { name: "hello", handler: "hello.handler", url: `${ready.gateway}/hello/`, httpSource: "http-api" },
  ]);
  // Build events come before ready: the first build is done when the gateway opens.
  t.is(
    lines.findIndex((l) => l.type === "build" && l.ok),
    0,
  );

  const response = await fetch(`${ready.gateway}/hello/world`);
  t.is(response.status, 200);
  t.is(await response.text(), "hello /world");
  const invoke = await next((l) => l.type === "invoke");
  const result = await next((l) => l.type === "result");
  t.is(result.requestId, invoke.requestId);
  t.is(result.ok, true);
  t.is(typeof result.durationMs, "number");
  const log = await next((l) => l.type === "log");
  t.is(log.line, "serving /world");

  child.kill("SIGINT");
  const [code] = await once(child, "exit");
  t.is(code, 0);
  t.like(lines.at(-1), { type: "summary", invocations: 1, errors: 0 });
});
