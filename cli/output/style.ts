/** Terminal colours through Node's `util.styleText`; whether to colour at all is decided once, by the caller. */
import { styleText } from "node:util";

export type Format = Parameters<typeof styleText>[0];

/** Paints text, or leaves it plain. */
export type Paint = (format: Format, text: string) => string;

/**
 * A painter. `validateStream: false`: the reporter writes through a function, not to a stream
 * `styleText` could check; `terminalOptions` has already decided (a terminal, and no NO_COLOR).
 */
export function painter(color: boolean): Paint {
  return color
    ? (format, text) => styleText(format, text, { validateStream: false })
    : (_format, text) => text;
}

/** One colour per request, so interleaved lines of concurrent invocations can be told apart. */
const REQUEST_COLORS = [
  "cyan",
  "magenta",
  "yellow",
  "green",
  "blue",
  "cyanBright",
  "magentaBright",
  "yellowBright",
  "greenBright",
  "blueBright",
] as const;

/** The colour of a request, from the last hex digits of its id. */
export function requestColor(requestId: string): Format {
  const hex = requestId.replace(/[^0-9a-f]/gi, "").slice(-2) || "0";
  return REQUEST_COLORS[parseInt(hex, 16) % REQUEST_COLORS.length];
}
