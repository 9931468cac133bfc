/**
 * Joins the source maps of modules placed one after another in one file into a single source map, without
 * decoding them again at every join: each module's mappings are prepared once (see {@link prepareMap}),
 * and a join re-encodes only each module's first segment, the one whose fields count from the previous
 * module's last (source maps store every segment's source, line and column relative to the one before).
 */

/** One module's map, prepared for joining. */
export interface PreparedMap {
  /** Generated line → its segments (names dropped), as in `mappings`; the first segment left out. */
  lines: string[];
  /** The first segment: its line, generated column and original line and column; undefined if none. */
  first?: { line: number; column: number; originalLine: number; originalColumn: number };
  /** The original line and column of the last segment. */
  last: { originalLine: number; originalColumn: number };
  /** The module's source text as a JSON string (for `sourcesContent`). */
  contentJson: string;
}

/** Prepares a single-source map (`mappings` of version 3, one source) of code with `lineCount` lines. */
export function prepareMap(
  map: { mappings: string; sourcesContent?: (string | null)[] },
  lineCount: number,
): PreparedMap {
  let originalLine = 0;
  let originalColumn = 0;
  let first: PreparedMap["first"];
  const lines = map.mappings.split(";").map((group, line) => {
    let column = 0;
    const kept: string[] = [];
    for (const segment of group.split(",")) {
      if (segment === "") continue;
      const fields = decode(segment);
      const [columnDelta, , lineDelta = 0, originalColumnDelta = 0] = fields;
      column += columnDelta;
      // A generated position that maps to nothing (one field): kept once the first segment is set,
      // as it must follow it on its line.
      if (fields.length < 4) {
        if (first) kept.push(encode([columnDelta]));
        continue;
      }
      originalLine += lineDelta;
      originalColumn += originalColumnDelta;
      if (!first) {
        // Joining puts it back first on its line, so the next segment's column delta stays right.
        first = { line, column, originalLine, originalColumn };
        continue;
      }
      // The name index (a fifth field) is dropped; the other deltas stay as they are.
      kept.push(encode([columnDelta, 0, lineDelta, originalColumnDelta]));
    }
    return kept.join(",");
  });
  while (lines.length < lineCount) lines.push("");
  lines.length = lineCount;
  return {
    lines,
    first,
    last: { originalLine, originalColumn },
    contentJson: JSON.stringify(map.sourcesContent?.[0] ?? null),
  };
}

/**
 * The `mappings` of modules placed in one file, each starting at column 0 of `startLine` (0-based,
 * increasing), module `i`'s source being source `i`; `lineCount` is the whole file's.
 */
export function joinMappings(modules: { map: PreparedMap; startLine: number }[], lineCount: number): string {
  const lines: string[] = new Array<string>(lineCount).fill("");
  const prev = { source: 0, originalLine: 0, originalColumn: 0 };
  modules.forEach(({ map, startLine }, index) => {
    map.lines.forEach((group, line) => (lines[startLine + line] = group));
    if (!map.first) return;
    const { line, column, originalLine, originalColumn } = map.first;
    const head = encode([
      column,
      index - prev.source,
      originalLine - prev.originalLine,
      originalColumn - prev.originalColumn,
    ]);
    const at = startLine + line;
    lines[at] = lines[at] === "" ? head : `${head},${lines[at]}`;
    prev.source = index;
    prev.originalLine = map.last.originalLine;
    prev.originalColumn = map.last.originalColumn;
  });
  return lines.join(";");
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...BASE64].map((char, value) => [char, value]));

function decode(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = DIGIT.get(char);
    if (digit === undefined) throw new Error(`invalid source map segment ${segment}`);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encode(values: number[]): string {
  let out = "";
  for (const signed of values) {
    let value = signed < 0 ? (-signed << 1) | 1 : signed << 1;
    do {
      let digit = value & 31;
      value >>>= 5;
      if (value > 0) digit |= 32;
      out += BASE64[digit];
    } while (value > 0);
  }
  return out;
}
