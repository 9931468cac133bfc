/** A failed build as the developer reads it: esbuild's messages, each naming file:line:column. */
import path from "node:path";
import * as esbuild from "esbuild";

/** esbuild's messages of a failure (a bundle build's or one module's), or the error's own message. */
export async function formatBuildError(error: unknown): Promise<string> {
  const messages = (error as { errors?: esbuild.Message[] } | undefined)?.errors;
  if (!Array.isArray(messages) || messages.length === 0) {
    return error instanceof Error ? error.message : String(error);
  }
  const formatted = await esbuild.formatMessages(messages, { kind: "error", color: false });
  return formatted.join("").trimEnd();
}

/** The files a formatted failure names: watching them lets fixing them trigger a rebuild. */
export function errorFiles(error: string, cwd: string): string[] {
  return [...error.matchAll(/^ {4}(\S.*?):\d+:\d+:$/gm)].map((match) => path.resolve(cwd, match[1]));
}
