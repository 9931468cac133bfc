import type { LambdaError } from "../protocol";
import type { SessionEvents } from "./session";

/** Everything the serve command tells its user; `--json` turns it into one NDJSON event per line. */
export interface Reporter extends SessionEvents {
  ready(e: { gateway?: string; broker?: string; mode: "local" | "aws"; functions: ReadyFunction[] }): void;
  build(e: { name: string; ok: boolean; durationMs: number; error?: string; first: boolean }): void;
  log(e: { name: string; requestId: string; stream: "stdout" | "stderr"; line: string }): void;
  error(e: { message: string }): void;
  summary(): void;
}

export interface ReadyFunction {
  name: string;
  handler: string;
  url?: string;
}

type Write = (text: string) => void;

interface Stats {
  durations: number[];
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** NDJSON: the first line is `{"type":"ready",...}`; then invoke, result, build, log, error, status events. */
export function jsonReporter(write: Write): Reporter {
  const emit = (type: string, body: object) =>
    write(JSON.stringify({ type, time: Date.now(), ...body }) + "\n");
  const stats: Stats = { durations: [], errors: 0 };
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
    summary: () => {
      const sorted = [...stats.durations].sort((a, b) => a - b);
      emit("summary", {
        invocations: sorted.length,
        errors: stats.errors,
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
      });
    },
  };
}

const COLORS = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];

/** Lines for people: one per invocation, logs indented under it, colour when the terminal takes it. */
export function humanReporter(write: Write, options: { color: boolean }): Reporter {
  const paint = (code: number, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const dim = (text: string) => paint(2, text);
  const stats: Stats = { durations: [], errors: 0 };
  const requestColor = (id: string) =>
    COLORS[parseInt(id.replace(/[^0-9a-f]/gi, "").slice(-2) || "0", 16) % 10];
  const short = (id: string) => id.slice(0, 8);
  const formatError = (error: LambdaError) => {
    const trace = error.trace.slice(1).map((line) => `      ${dim(line.trim())}`);
    return [`    ${paint(31, `${error.errorType}: ${error.errorMessage}`)}`, ...trace].join("\n");
  };
  return {
    ready: (e) => {
      const lines = [paint(1, `pulumi-live ${e.mode === "local" ? "local mode" : "serving"}`)];
      if (e.gateway) lines.push(`  gateway   ${e.gateway}`);
      if (e.broker) lines.push(`  broker    ${e.broker}`);
      lines.push("  functions");
      const width = Math.max(...e.functions.map((f) => f.name.length));
      for (const f of e.functions) {
        lines.push(`    ${f.name.padEnd(width)}  ${dim(f.handler)}${f.url ? `  →  ${f.url}` : ""}`);
      }
      if (e.gateway) {
        const first = e.functions[0]?.name ?? "api";
        lines.push(
          dim(`  Call one: curl ${e.gateway}/${first}/  or, as Lambda's Invoke API:`),
          dim(
            `  aws lambda invoke --endpoint-url ${e.gateway} --function-name ${first} --payload '{}' --cli-binary-format raw-in-base64-out out.json`,
          ),
        );
      }
      lines.push(
        dim("  Edit a handler and call again: the next invocation runs the new code. Ctrl+C stops."),
      );
      write(lines.join("\n") + "\n");
    },
    build: (e) => {
      if (e.ok) write(`${paint(32, "✓")} built ${e.name} ${dim(`in ${e.durationMs.toFixed(0)} ms`)}\n`);
      else
        write(
          `${paint(31, "✗")} build of ${e.name} failed; invocations fail until it is fixed\n${e.error}\n`,
        );
    },
    log: (e) => write(`  ${paint(requestColor(e.requestId), "│")} ${e.line}\n`),
    error: (e) => write(`${paint(31, "error")} ${e.message}\n`),
    invoke: (e) => write(`${paint(requestColor(e.requestId), "→")} ${e.name} ${dim(short(e.requestId))}\n`),
    result: (e) => {
      stats.durations.push(e.durationMs);
      if (e.error) stats.errors++;
      const mark = e.error ? paint(31, "✗") : paint(32, "✓");
      const cold = e.coldStart ? dim(" (cold)") : "";
      const head = `${mark} ${e.name} ${paint(requestColor(e.requestId), short(e.requestId))} ${e.durationMs.toFixed(0)} ms${cold}`;
      write(e.error ? `${head}\n${formatError(e.error)}\n` : `${head}\n`);
    },
    drop: (e) => write(dim(`dropped a message on ${e.topic}: ${e.reason}\n`)),
    status: (e) => write(`${paint(33, "•")} ${e.message}\n`),
    takeover: (e) =>
      write(`${paint(33, "•")} another session (${e.sessionId}${e.host ? ` on ${e.host}` : ""}) took over\n`),
    summary: () => {
      const sorted = [...stats.durations].sort((a, b) => a - b);
      write(
        `${sorted.length} invocations, ${stats.errors} errors` +
          (sorted.length ? `, p50 ${percentile(sorted, 50)} ms, p95 ${percentile(sorted, 95)} ms` : "") +
          "\n",
      );
    },
  };
}
