/** The VS Code launch configuration that runs `pulumi-live serve` under the debugger. */
import { blankJsonc, closingBracket, parseJsonc, topLevelValueStart } from "./jsonc";

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

/** `value` as JSON indented by `unit`, starting at `level` levels deep. */
function indented(value: unknown, unit: string, level: number): string {
  const pad = unit.repeat(level);
  return (
    pad +
    JSON.stringify(value, null, unit)
      .split("\n")
      .join("\n" + pad)
  );
}

/**
 * Adds the configuration (by default the serve one) to a launch.json's text (undefined: no file yet),
 * keeping every other configuration and every comment. Throws a SyntaxError when the text is not JSON
 * with comments.
 */
export function mergeLaunchJson(
  existing: string | undefined,
  configuration: { name: string } = LAUNCH_CONFIGURATION,
): LaunchMerge {
  if (existing === undefined || existing.trim() === "") {
    const text = JSON.stringify({ version: "0.2.0", configurations: [configuration] }, null, 4);
    return { change: "created", text: text + "\n", kept: 0 };
  }
  const parsed = parseJsonc(existing) as { configurations?: unknown };
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SyntaxError("the file is not a JSON object");
  }
  const configurations = parsed.configurations ?? [];
  if (!Array.isArray(configurations)) throw new SyntaxError('"configurations" is not a list');
  const kept = configurations.length;
  if (configurations.some((c) => (c as { name?: unknown } | null)?.name === configuration.name)) {
    return { change: "unchanged", text: existing, kept };
  }
  const blanked = blankJsonc(existing);
  const unit = /\n([ \t]+)"/.exec(blanked)?.[1] ?? "    ";
  const start = topLevelValueStart(blanked, "configurations");
  if (start === undefined) {
    const open = blanked.indexOf("{");
    const empty = blanked.slice(open + 1, closingBracket(blanked, open)).trim() === "";
    const insert = `\n${unit}"configurations": [\n${indented(configuration, unit, 2)}\n${unit}]${empty ? "\n" : ","}`;
    return { change: "added", text: existing.slice(0, open + 1) + insert + existing.slice(open + 1), kept };
  }
  if (kept === 0) {
    const close = closingBracket(blanked, start);
    const list = `[\n${indented(configuration, unit, 2)}\n${unit}]`;
    return { change: "added", text: existing.slice(0, start) + list + existing.slice(close + 1), kept };
  }
  const insert = `\n${indented(configuration, unit, 2)},`;
  return { change: "added", text: existing.slice(0, start + 1) + insert + existing.slice(start + 1), kept };
}
