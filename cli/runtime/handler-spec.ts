import { statSync } from "node:fs";
import path from "node:path";
import { UserError } from "../user-error";

/** One `--function name=path/to/file.export` flag, resolved. */
export interface FunctionSpec {
  /** The function's name as the stack knows it. */
  name: string;
  /** Absolute path of the handler's source file. */
  file: string;
  /** The export that is the handler. */
  exportName: string;
}

/** Extensions tried, in order, after the path as given (as Lambda's handler names omit them). */
export const HANDLER_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"] as const;

const EXAMPLE = "api=src/api.handler";

/**
 * Parses `name=path/to/file.export`. The export follows the last dot of the last path segment, so
 * folders may hold dots (`my.app/src/api.handler`); the path is relative to `cwd` unless absolute.
 * @throws UserError when the flag is malformed or no file matches.
 */
export function parseFunctionSpec(spec: string, cwd: string): FunctionSpec {
  const equals = spec.indexOf("=");
  const name = equals < 0 ? "" : spec.slice(0, equals).trim();
  const handler = equals < 0 ? "" : spec.slice(equals + 1).trim();
  if (!name || !handler) {
    throw new UserError(
      `Invalid --function "${spec}": expected name=path/to/file.export, for example --function ${EXAMPLE}.`,
    );
  }
  // Only the last segment may carry the separator: a dot in a folder name is part of the path.
  const lastSeparator = Math.max(handler.lastIndexOf("/"), handler.lastIndexOf("\\"));
  const dot = handler.lastIndexOf(".");
  const modulePath = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  if (dot <= lastSeparator + 1 || !exportName) {
    throw new UserError(
      `Invalid --function "${spec}": "${handler}" names no export. Write the file path without its ` +
        `extension, a dot and the exported handler's name, for example --function ${name}=src/api.handler.`,
    );
  }
  return { name, file: resolveHandlerFile(cwd, modulePath), exportName };
}

/**
 * Finds the source file of a handler module: the path as given, then with each of
 * {@link HANDLER_EXTENSIONS}.
 * @returns the absolute, resolved path.
 * @throws UserError listing every path tried.
 */
export function resolveHandlerFile(base: string, modulePath: string): string {
  const given = path.resolve(base, modulePath);
  const tried = [given, ...HANDLER_EXTENSIONS.map((ext) => given + ext)];
  for (const candidate of tried) if (isFile(candidate)) return candidate;
  throw new UserError(
    `Cannot find the handler module "${modulePath}" (relative to ${base}). Tried:\n` +
      tried.map((candidate) => `  ${candidate}\n`).join("") +
      `Create the file, or fix the path: it names the file without its extension, followed by a dot and ` +
      `the export, e.g. src/api.handler for export "handler" of src/api.ts.`,
  );
}

function isFile(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}
