import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import path from "node:path";

/** The inline source map of a bundle esbuild wrote, with its sources resolved to absolute paths. */
export function inlineSourceMap(bundle: string): { map: SourceMap; sources: string[]; contents: string[] } {
  const text = readFileSync(bundle, "utf8");
  const match = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(text);
  if (!match) throw new Error(`${bundle} has no inline source map`);
  const payload = JSON.parse(Buffer.from(match[1], "base64").toString("utf8"));
  const sources = (payload.sources as string[]).map((s) => path.resolve(path.dirname(bundle), s));
  return { map: new SourceMap(payload), sources, contents: payload.sourcesContent as string[] };
}

/**
 * Where the bundle runs a source line (0-based line and column of the bundle), as a debugger finds it:
 * the first generated position whose mapping points at that line of that file.
 */
export function generatedPosition(
  bundle: string,
  source: string,
  line: number,
): { lineNumber: number; columnNumber: number } {
  const { map } = inlineSourceMap(bundle);
  const lines = readFileSync(bundle, "utf8").split("\n");
  for (let l = 0; l < lines.length; l++) {
    const column = lines[l].search(/\S/);
    if (column < 0) continue;
    const entry = map.findEntry(l, column) as { originalSource?: string; originalLine?: number };
    if (entry.originalLine === line - 1 && resolveSource(entry.originalSource, bundle) === source) {
      return { lineNumber: l, columnNumber: column };
    }
  }
  throw new Error(`no code of ${source}:${line} in ${bundle}`);
}

/** The source position (1-based line) of a bundle position. */
export function originalPosition(bundle: string, lineNumber: number, columnNumber: number) {
  const { map } = inlineSourceMap(bundle);
  const entry = map.findEntry(lineNumber, columnNumber) as { originalSource?: string; originalLine?: number };
  return { source: resolveSource(entry.originalSource, bundle), line: (entry.originalLine ?? -1) + 1 };
}

function resolveSource(source: string | undefined, bundle: string): string | undefined {
  if (source === undefined) return undefined;
  if (source.startsWith("file://")) return new URL(source).pathname;
  return path.resolve(path.dirname(bundle), source);
}
