/**
 * The message for a program that failed under mocks: where (file and line, from the error's location
 * or its first stack frame in the user's own code), what, and what to do. Pure.
 */
import path from "node:path";
import type { ProgramErrorReport } from "./host-messages";

/** The way out that never runs the program. */
export const FUNCTION_FLAG_HINT =
  "To serve without running the program, name each function: --function name=path/to/file.export.";

/** `/abs/file.ts:12:5` of the first stack frame outside node_modules, Node's internals and `skip`. */
export function userFrame(stack: string | undefined, skip: string[]): string | undefined {
  for (const line of (stack ?? "").split("\n").slice(1)) {
    const match = /(?:\(|at )((?:file:\/\/)?(?:\/|[A-Za-z]:\\)[^()]*?):(\d+):(\d+)\)?$/.exec(line.trim());
    if (!match) continue;
    const file = match[1].replace(/^file:\/\//, "");
    if (file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    if (skip.some((dir) => file.startsWith(dir + path.sep))) continue;
    return `${file}:${match[2]}:${match[3]}`;
  }
  return undefined;
}

export function describeProgramError(
  error: ProgramErrorReport,
  options: { main: string; cwd: string; skip: string[] },
): string {
  const relative = (at: string) => path.relative(options.cwd, at) || at;
  const at = error.location
    ? `${error.location.file}:${error.location.line}:${error.location.column}`
    : userFrame(error.stack, options.skip);
  const where = at ? relative(at) : relative(options.main);
  const missing = error.code === "MODULE_NOT_FOUND" || error.code === "ERR_MODULE_NOT_FOUND";
  // Node adds the require stack to the message; the location already says where.
  const message = error.message.replace(/\nRequire stack:[\s\S]*$/, "").trim();
  const what = missing
    ? "It imports something that cannot be found: install the package (npm install) or fix the import path."
    : error.location
      ? "Fix the syntax there."
      : "Fix the program there: it ran as `pulumi up` would, with the cloud mocked (see the README on placeholders).";
  return [
    `The Pulumi program ${relative(options.main)} failed at ${where}:`,
    `  ${error.name === "Error" || message.startsWith(error.name) ? "" : `${error.name}: `}${message.replace(/\n/g, "\n  ")}`,
    `${what} ${FUNCTION_FLAG_HINT}`,
  ].join("\n");
}
