import path from "node:path";
import { codeFrame, firstUserFrame } from "./output/code-frame";
import { Spinner } from "./output/spinner";
import type { SessionEvents } from "./session";
import type { LambdaError } from "../core/lambda-error";

/** Everything the serve command tells its user; `--json` turns it into one NDJSON event per line. */
export interface Reporter extends SessionEvents {
  ready(e: {
    gateway?: string;
    broker?: string;
    mode: "local" | "aws";
    /** Local mode reading a Pulumi program: its entry file and stack. */
    program?: { main: string; stack: string };
    functions: ReadyFunction[];
    /** The debugger's WebSocket URL, when debugging. */
    inspector?: string;
  }): void;
  build(e: { name: string; ok: boolean; durationMs: number; error?: string; first: boolean }): void;
  log(e: { name: string; requestId: string; stream: "stdout" | "stderr"; line: string }): void;
  error(e: { message: string }): void;
  summary(): void;
}

export interface ReadyFunction {
  name: string;
  handler: string;
  /** Local mode: `/{name}/` on the gateway, and the front door its events imitate there. */
  url?: string;
  httpSource?: string;
  /** What the program attaches to it, and how to call each. */
  triggers?: ReadyTrigger[];
}

/** One trigger of a locally served function. */
export type ReadyTrigger =
  | { kind: "http"; source: string; url: string }
  | { kind: "http-api"; api: string; route: string; url: string }
  | {
      kind: "sqs";
      queue: string;
      queueUrl: string;
      batchSize: number;
      reportBatchItemFailures: boolean;
      enabled?: false;
    }
  | { kind: "schedule"; rule: string; expression: string; next?: string; fire: string };

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

type Write = (text: string) => void;

interface Stats {
  durations: number[];
  errors: number;
  cold: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarize(stats: Stats) {
  const sorted = [...stats.durations].sort((a, b) => a - b);
  return {
    invocations: sorted.length,
    errors: stats.errors,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
  };
}

/** NDJSON: the first line is `{"type":"ready",...}`; then invoke, result, build, log, error, status events. */
export function jsonReporter(write: Write): Reporter {
  const emit = (type: string, body: object) =>
    write(JSON.stringify({ type, time: Date.now(), ...body }) + "\n");
  const stats: Stats = { durations: [], errors: 0, cold: 0 };
  return {
    ready: (e) => emit("ready", e),
    build: (e) => emit("build", e),
    log: (e) => emit("log", e),
    error: (e) => emit("error", e),
    invoke: (e) => emit("invoke", e),
    result: (e) => {
      stats.durations.push(e.durationMs);
      if (e.error) stats.errors++;
      emit("result", { ...e, ok: !e.error });
    },
    drop: (e) => emit("drop", e),
    status: (e) => emit("status", e),
    takeover: (e) => emit("takeover", e),
    summary: () => emit("summary", summarize(stats)),
  };
}

/** How the human reporter writes, usually from {@link terminalOptions}. */
export interface HumanReporterOptions {
  /** ANSI colours. */
  color: boolean;
  /** A terminal: a spinner shows while starting and reconnecting. @default false */
  interactive?: boolean;
  /** Paths in stacks and code frames are shown relative to this folder. @default process.cwd() */
  cwd?: string;
  /**
   * Quick invocations print as one line with their logs under it; one running longer than this (ms)
   * prints its line at once and streams its logs. @default 1000
   */
  streamAfterMs?: number;
}

/** Colour and spinner only for a terminal, and no colour when `NO_COLOR` is set (no-color.org). */
export function terminalOptions(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
): Pick<HumanReporterOptions, "color" | "interactive"> {
  const tty = stream.isTTY === true;
  return { color: tty && !env.NO_COLOR, interactive: tty && env.TERM !== "dumb" };
}

const COLORS = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];

interface Pending {
  name: string;
  logs: string[];
  /** Its line is printed already and its logs go straight out. */
  streaming: boolean;
  timer?: NodeJS.Timeout;
}

/** Lines for people: one per invocation, logs indented under it, colour when the terminal takes it. */
export function humanReporter(write: Write, options: HumanReporterOptions): Reporter {
  const cwd = options.cwd ?? process.cwd();
  const paint = (code: number, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const dim = (text: string) => paint(2, text);
  const spinner = options.interactive ? new Spinner(write, (frame) => paint(36, frame)) : undefined;
  const out = (text: string) => (spinner ? spinner.print(text) : write(text));
  const stats: Stats = { durations: [], errors: 0, cold: 0 };
  const pending = new Map<string, Pending>();
  const built: string[] = [];
  const requestColor = (id: string) =>
    COLORS[parseInt(id.replace(/[^0-9a-f]/gi, "").slice(-2) || "0", 16) % 10];
  const short = (id: string) => id.slice(0, 8);
  const bar = (requestId: string) => paint(requestColor(requestId), "│");
  const ms = (n: number) => `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ms`;
  const relative = (line: string) => line.split(cwd + path.sep).join("");
  const formatError = (error: LambdaError) => {
    const lines = [`    ${paint(31, `${error.errorType}: ${error.errorMessage}`)}`];
    const at = firstUserFrame(error.trace, cwd);
    const frame = at && codeFrame(at);
    if (at && frame) {
      lines.push(`    ${dim(`${path.relative(cwd, at.file)}:${at.line}:${at.column}`)}`);
      lines.push(...frame.map((line) => `      ${line.startsWith(">") ? paint(31, line) : dim(line)}`));
    }
    lines.push(...error.trace.slice(1).map((line) => `      ${dim(relative(line.trim()))}`));
    return lines.join("\n") + "\n";
  };
  const head = (mark: string, name: string, requestId: string) =>
    `${mark} ${name} ${paint(requestColor(requestId), short(requestId))}`;
  const logLine = (requestId: string, line: string) => `  ${bar(requestId)} ${line}\n`;
  const startStreaming = (requestId: string, p: Pending) => {
    if (p.streaming) return;
    p.streaming = true;
    out(`${head(paint(requestColor(requestId), "→"), p.name, requestId)} ${dim("running…")}\n`);
    out(p.logs.map((line) => logLine(requestId, line)).join(""));
    p.logs = [];
  };
  spinner?.start("starting…");
  return {
    ready: (e) => {
      spinner?.stop();
      const lines = [paint(1, `pulumi-live ${e.mode === "local" ? "local mode" : "serving"}`)];
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
      lines.push(
        dim("  Edit a handler and call again: the next invocation runs the new code. Ctrl+C stops."),
      );
      write(lines.join("\n") + "\n");
    },
    build: (e) => {
      if (e.first && spinner?.active) {
        built.push(e.name);
        spinner.start(`starting… built ${built.join(", ")}`);
      }
      const took = dim(`in ${ms(e.durationMs)}`);
      if (e.ok) out(`${paint(32, "✓")} ${e.first ? "built" : "rebuilt"} ${e.name} ${took}\n`);
      else {
        const error = (e.error ?? "").replace(/^(?=.)/gm, "  ");
        out(`${paint(31, "✗")} build of ${e.name} failed; invocations fail until it is fixed\n${error}\n`);
      }
    },
    log: (e) => {
      const p = pending.get(e.requestId);
      if (p && !p.streaming) p.logs.push(e.line);
      else out(logLine(e.requestId, e.line));
    },
    error: (e) => {
      spinner?.stop();
      out(`${paint(31, "error")} ${e.message}\n`);
    },
    invoke: (e) => {
      const p: Pending = { name: e.name, logs: [], streaming: false };
      pending.set(e.requestId, p);
      p.timer = setTimeout(() => startStreaming(e.requestId, p), options.streamAfterMs ?? 1000).unref();
    },
    result: (e) => {
      stats.durations.push(e.durationMs);
      if (e.error) stats.errors++;
      if (e.coldStart) stats.cold++;
      const p = pending.get(e.requestId);
      pending.delete(e.requestId);
      clearTimeout(p?.timer);
      const mark = e.error ? paint(31, "✗") : paint(32, "✓");
      const cold = e.coldStart ? `  ${paint(33, "cold")}` : "";
      const logs = (p?.logs ?? []).map((line) => logLine(e.requestId, line)).join("");
      out(`${head(mark, e.name, e.requestId)}  ${ms(e.durationMs)}${cold}\n${logs}`);
      if (e.error) out(formatError(e.error));
    },
    drop: (e) => out(dim(`dropped a message on ${e.topic}: ${e.reason}\n`)),
    status: (e) => {
      if (spinner && /\binterrupted\b/.test(e.message))
        return spinner.start(e.message.replace(/\binterrupted\b/, "lost; reconnecting"));
      if (spinner?.active && /\b(resumed|connected)\b/.test(e.message)) spinner.stop();
      out(`${paint(33, "•")} ${e.message}\n`);
    },
    takeover: (e) =>
      out(`${paint(33, "•")} another session (${e.sessionId}${e.host ? ` on ${e.host}` : ""}) took over\n`),
    summary: () => {
      spinner?.stop();
      for (const p of pending.values()) clearTimeout(p.timer);
      const s = summarize(stats);
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
      const parts = [plural(s.invocations, "invocation"), plural(s.errors, "error")];
      if (s.invocations > 0)
        parts.push(plural(stats.cold, "cold start"), `p50 ${ms(s.p50)}`, `p95 ${ms(s.p95)}`);
      write(parts.join(", ") + "\n");
    },
  };
}
