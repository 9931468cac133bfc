/** A few lines of source around the place an error points at, as people read them in a terminal. */
import { readFileSync } from "node:fs";
import path from "node:path";

/** A source position: 1-based line and column. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** Stack frames Node prints: `at fn (/abs/file.ts:12:5)` or `at /abs/file.ts:12:5` or `file:///...`. */
const FRAME = /\(?((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):(\d+):(\d+)\)?\s*$/;

/**
 * The first frame of a stack trace in the user's own source: an existing file under `root`, outside
 * `node_modules` and pulumi-live's build folder.
 */
export function firstUserFrame(trace: string[], root: string): SourcePosition | undefined {
  for (const line of trace) {
    const match = FRAME.exec(line.trim());
    if (!match) continue;
    const file = match[1].startsWith("file://") ? new URL(match[1]).pathname : match[1];
    const relative = path.relative(root, file);
    if (relative.startsWith("..") || path.isAbsolute(relative)) continue;
    const parts = relative.split(path.sep);
    if (parts.includes("node_modules") || parts.includes(".pulumi-live")) continue;
    return { file, line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}

/**
 * `  11 │ const x = 1;` lines around `position`, the line itself marked with `>` and a caret under the
 * column; undefined when the file cannot be read or has no such line.
 */
export function codeFrame(position: SourcePosition, context = 2): string[] | undefined {
  let lines: string[];
  try {
    lines = readFileSync(position.file, "utf8").split(/\r?\n/);
  } catch {
    return undefined;
  }
  if (position.line < 1 || position.line > lines.length) return undefined;
  const first = Math.max(1, position.line - context);
  const last = Math.min(lines.length, position.line + context);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const marker = n === position.line ? ">" : " ";
    out.push(`${marker} ${String(n).padStart(width)} │ ${lines[n - 1]}`.trimEnd());
    if (n === position.line) {
      const prefix = lines[n - 1].slice(0, Math.max(0, position.column - 1)).replace(/[^\t]/g, " ");
      out.push(`  ${" ".repeat(width)} │ ${prefix}^`);
    }
  }
  return out;
}
