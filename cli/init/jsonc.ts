/** Reading JSON with comments and trailing commas (VS Code's launch.json) while keeping its text. */

/**
 * The text with comments and trailing commas blanked out by spaces: positions stay those of the
 * original, so what is found in it can be edited in the original.
 */
export function blankJsonc(text: string): string {
  const out = text.split("");
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n" && out[k] !== "\r") out[k] = " ";
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = stringEnd(text, i);
    } else if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      blank(i, stop);
      i = stop;
    } else i++;
  }
  const blanked = out.join("");
  // A comma followed only by blanks before a closing bracket.
  return blanked.replace(/,(\s*[\]}])/g, " $1");
}

/** Index just past the string starting at `start` (a `"`). */
export function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}

/** Parses JSONC; throws SyntaxError as JSON.parse does. */
export function parseJsonc(text: string): unknown {
  return JSON.parse(blankJsonc(text));
}

/**
 * Where the value of a top-level key starts in blanked JSONC text (the index of its first character),
 * or undefined when the top-level object has no such key.
 */
export function topLevelValueStart(blanked: string, key: string): number | undefined {
  let depth = 0;
  let i = 0;
  while (i < blanked.length) {
    const c = blanked[i];
    if (c === '"') {
      const end = stringEnd(blanked, i);
      if (depth === 1 && JSON.parse(blanked.slice(i, end)) === key) {
        const after = /^\s*:\s*/.exec(blanked.slice(end));
        if (after) return end + after[0].length;
      }
      i = end;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    i++;
  }
  return undefined;
}

/** Index of the bracket that closes the one at `open`, in blanked text. */
export function closingBracket(blanked: string, open: number): number {
  let depth = 0;
  for (let i = open; i < blanked.length; i++) {
    const c = blanked[i];
    if (c === '"') {
      i = stringEnd(blanked, i) - 1;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}
