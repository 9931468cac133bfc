/** Keeping pulumi-live's own folder (builds, invocation records) out of git. */

export const IGNORED = ".pulumi-live/";

/** The .gitignore text ignoring `.pulumi-live/`, or undefined when it already does. */
export function withPulumiLiveIgnored(existing: string | undefined): string | undefined {
  const text = existing ?? "";
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (lines.some((line) => /^\/?\.pulumi-live\/?(\*\*)?$/.test(line))) return undefined;
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  return `${text}${separator}${IGNORED}\n`;
}
