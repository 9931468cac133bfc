/** The VS Code launch configuration that runs `pulumi-live serve` under the debugger. */
import { applyEdits, modify, parse, printParseErrorCode, type ParseError } from "jsonc-parser";

export const LAUNCH_NAME = "pulumi-live serve";

/** Breakpoints in handlers bind in their .ts source: VS Code follows the worker threads on its own. */
export const LAUNCH_CONFIGURATION = {
  type: "node",
  request: "launch",
  name: LAUNCH_NAME,
  program: "${workspaceFolder}/node_modules/.bin/pulumi-live",
  args: ["serve"],
  cwd: "${workspaceFolder}",
  console: "integratedTerminal",
  skipFiles: ["<node_internals>/**"],
  resolveSourceMapLocations: ["${workspaceFolder}/**", "!**/node_modules/**"],
};

export type LaunchMerge =
  | { change: "created" | "added"; text: string; kept: number }
  | { change: "unchanged"; text: string; kept: number };

/** Parses launch.json as VS Code does: comments and trailing commas allowed. Throws a SyntaxError. */
export function parseLaunchJson(text: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const { error, offset } = errors[0];
    const line = text.slice(0, offset).split("\n").length;
    throw new SyntaxError(`${printParseErrorCode(error)} at line ${line}`);
  }
  return value;
}

/** The file's own indentation unit, so what is added looks as if it had been written there. */
function indentation(text: string): { insertSpaces: boolean; tabSize: number } {
  const unit = /\n([ \t]+)"/.exec(text)?.[1] ?? "    ";
  return unit.startsWith("\t")
    ? { insertSpaces: false, tabSize: 1 }
    : { insertSpaces: true, tabSize: unit.length };
}

/**
 * Adds the configuration (by default the serve one) to a launch.json's text (undefined: no file yet),
 * keeping every other configuration and every comment (jsonc-parser edits the text in place). Throws a
 * SyntaxError when the text is not JSON with comments.
 */
export function mergeLaunchJson(
  existing: string | undefined,
  configuration: { name: string } = LAUNCH_CONFIGURATION,
): LaunchMerge {
  if (existing === undefined || existing.trim() === "") {
    const text = JSON.stringify({ version: "0.2.0", configurations: [configuration] }, null, 4);
    return { change: "created", text: text + "\n", kept: 0 };
  }
  const parsed = parseLaunchJson(existing) as { configurations?: unknown };
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SyntaxError("the file is not a JSON object");
  }
  const configurations = parsed.configurations ?? [];
  if (!Array.isArray(configurations)) throw new SyntaxError('"configurations" is not a list');
  const kept = configurations.length;
  if (configurations.some((c) => (c as { name?: unknown } | null)?.name === configuration.name)) {
    return { change: "unchanged", text: existing, kept };
  }
  const formattingOptions = { ...indentation(existing), eol: existing.includes("\r\n") ? "\r\n" : "\n" };
  // First in the list, so it is the one VS Code's Run and Debug view selects.
  const edits =
    parsed.configurations === undefined
      ? modify(existing, ["configurations"], [configuration], { formattingOptions })
      : modify(existing, ["configurations", 0], configuration, {
          formattingOptions,
          isArrayInsertion: true,
        });
  return { change: "added", text: applyEdits(existing, edits), kept };
}
