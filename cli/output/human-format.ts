/** The lines `serve` prints for people, as functions of the events: no state, no output of their own. */
import path from "node:path";
import type { LambdaError } from "../../core/lambda-error";
import type { BuildEvent, DropEvent, ReadyEvent, ReadyTrigger, ResultEvent, TakeoverEvent } from "../events";
import { codeFrame, firstUserFrame } from "./code-frame";
import { requestColor, type Paint } from "./style";

/** What formatting needs besides the event. */
export interface FormatContext {
  paint: Paint;
  /** Paths in stacks and code frames are shown relative to this folder. */
  cwd: string;
  /** The source lines around a stack frame (reads the file); injected so tests need no files. */
  codeFrame?: typeof codeFrame;
}

export function duration(ms: number): string {
  return `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
}

/** `✓ api 0a1b2c3d`: a mark, the function, the request's first characters in its colour. */
export function head(c: FormatContext, mark: string, name: string, requestId: string): string {
  return `${mark} ${name} ${c.paint(requestColor(requestId), requestId.slice(0, 8))}`;
}

/** A handler's log line, under its invocation. */
export function logLine(c: FormatContext, requestId: string, line: string): string {
  return `  ${c.paint(requestColor(requestId), "│")} ${line}\n`;
}

/** The line of an invocation that runs long: printed at once, its logs stream under it. */
export function runningLine(c: FormatContext, name: string, requestId: string): string {
  return `${head(c, c.paint(requestColor(requestId), "→"), name, requestId)} ${c.paint("dim", "running…")}\n`;
}

/** A Lambda-shaped error: type and message, a code frame of the first frame in the user's code, the stack. */
export function errorLines(c: FormatContext, error: LambdaError): string {
  const dim = (text: string) => c.paint("dim", text);
  const lines = [`    ${c.paint("red", `${error.errorType}: ${error.errorMessage}`)}`];
  const at = firstUserFrame(error.trace, c.cwd);
  const frame = at && (c.codeFrame ?? codeFrame)(at);
  if (at && frame) {
    lines.push(`    ${dim(`${path.relative(c.cwd, at.file)}:${at.line}:${at.column}`)}`);
    lines.push(...frame.map((line) => `      ${line.startsWith(">") ? c.paint("red", line) : dim(line)}`));
  }
  const relative = (line: string) => line.split(c.cwd + path.sep).join("");
  lines.push(...error.trace.slice(1).map((line) => `      ${dim(relative(line.trim()))}`));
  return lines.join("\n") + "\n";
}

/** An invocation's line, its buffered logs under it, and its error when it failed. */
export function resultLines(c: FormatContext, e: ResultEvent, logs: readonly string[]): string {
  const mark = e.error ? c.paint("red", "✗") : c.paint("green", "✓");
  const cold = e.coldStart ? `  ${c.paint("yellow", "cold")}` : "";
  const logged = logs.map((line) => logLine(c, e.requestId, line)).join("");
  const line = `${head(c, mark, e.name, e.requestId)}  ${duration(e.durationMs)}${cold}\n${logged}`;
  return e.error ? line + errorLines(c, e.error) : line;
}

export function buildLines(c: FormatContext, e: BuildEvent): string {
  const took = c.paint("dim", `in ${duration(e.durationMs)}`);
  if (e.ok) return `${c.paint("green", "✓")} ${e.first ? "built" : "rebuilt"} ${e.name} ${took}\n`;
  const error = (e.error ?? "").replace(/^(?=.)/gm, "  ");
  return `${c.paint("red", "✗")} build of ${e.name} failed; invocations fail until it is fixed\n${error}\n`;
}

export function dropLine(c: FormatContext, e: DropEvent): string {
  const where = e.function ?? e.functionId ?? e.topic;
  return c.paint("dim", `dropped a message${where ? ` for ${where}` : ""} (${e.reason}): ${e.detail}\n`);
}

/** A status line: `• ...`. */
export function statusLine(c: FormatContext, message: string): string {
  return `${c.paint("yellow", "•")} ${message}\n`;
}

export function takeoverLine(c: FormatContext, e: TakeoverEvent): string {
  return statusLine(c, `another session (${e.sessionId}${e.host ? ` on ${e.host}` : ""}) took over`);
}

export function errorLine(c: FormatContext, message: string): string {
  return `${c.paint("red", "error")} ${message}\n`;
}

/** One line on how to call a trigger, for people. */
export function describeTrigger(trigger: ReadyTrigger): string {
  switch (trigger.kind) {
    case "http":
      return `${trigger.source === "function-url" ? "function URL" : trigger.source}  →  ${trigger.url}`;
    case "http-api":
      return `HTTP API ${trigger.api} ${trigger.route}  →  ${trigger.url}`;
    case "sqs":
      return (
        `SQS ${trigger.queue} (batch ${trigger.batchSize}${trigger.reportBatchItemFailures ? ", partial failures" : ""}` +
        `${trigger.enabled === false ? ", disabled" : ""})  →  send to ${trigger.queueUrl}`
      );
    case "schedule":
      return `schedule ${trigger.rule} ${trigger.expression}${trigger.next ? `, next ${trigger.next}` : ""}  →  ${trigger.fire}`;
  }
}

/** What serves, where, and how to call it. */
export function readyBlock(c: FormatContext, e: ReadyEvent): string {
  const dim = (text: string) => c.paint("dim", text);
  const lines = [c.paint("bold", `pulumi-live ${e.mode === "local" ? "local mode" : "serving"}`)];
  if (e.gateway) lines.push(`  gateway   ${e.gateway}`);
  if (e.broker) lines.push(`  broker    ${e.broker}`);
  if (e.inspector) {
    lines.push(`  debugger  ${e.inspector}`);
    lines.push(dim("            attach VS Code or chrome://inspect; breakpoints go in the .ts source"));
  }
  if (e.program) lines.push(`  program   ${e.program.main} (stack ${e.program.stack})`);
  lines.push("  functions");
  const width = Math.max(...e.functions.map((f) => f.name.length));
  for (const f of e.functions) {
    const own = f.triggers?.some((t) => t.kind === "http") ? "" : f.url ? `  →  ${f.url}` : "";
    lines.push(`    ${f.name.padEnd(width)}  ${dim(f.handler)}${own}`);
    for (const trigger of f.triggers ?? [])
      lines.push(`    ${"".padEnd(width)}    ${describeTrigger(trigger)}`);
  }
  if (e.gateway) {
    const first = e.functions[0]?.name ?? "api";
    const endpoint = e.gateway === "http://127.0.0.1:3000" ? "" : ` --endpoint ${e.gateway}`;
    lines.push(
      dim(`  Call one: curl ${e.gateway}/${first}/  or  pulumi-live invoke ${first} --local${endpoint}`),
    );
  }
  lines.push(dim("  Edit a handler and call again: the next invocation runs the new code. Ctrl+C stops."));
  return lines.join("\n") + "\n";
}
