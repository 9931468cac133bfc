import { findHandlerFile, handlerCandidates, HANDLER_FORMAT_HINT, splitHandler } from "../../core/handler";
import { findPythonHandlerFile, isPythonRuntime, pythonHandlerCandidate } from "../../core/python";
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

const EXAMPLE = "api=src/api.handler";

/**
 * Parses `name=path/to/file.export` (see `splitHandler`): the path is relative to `cwd` unless absolute.
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
  const split = splitHandler(handler);
  if (!split) {
    throw new UserError(
      `Invalid --function "${spec}": "${handler}" names no export. ${HANDLER_FORMAT_HINT} ` +
        `For example --function ${name}=src/api.handler.`,
    );
  }
  return { name, file: resolveHandlerFile(cwd, split.modulePath), exportName: split.exportName };
}

/**
 * Finds the source file of a handler module: for a Python runtime its `.py` file, for a Node.js one its
 * source (see `handlerCandidates`), and with no runtime known (`--function`) Node.js sources, then `.py`.
 * @returns the absolute, resolved path.
 * @throws UserError listing every path tried.
 */
export function resolveHandlerFile(base: string, modulePath: string, runtime?: string): string {
  const python = isPythonRuntime(runtime);
  const node = !python && findHandlerFile(base, modulePath);
  const found =
    node || (python || runtime === undefined ? findPythonHandlerFile(base, modulePath) : undefined);
  if (found) return found;
  const tried = [
    ...(python ? [] : handlerCandidates(base, modulePath)),
    ...(python || runtime === undefined ? [pythonHandlerCandidate(base, modulePath)] : []),
  ];
  throw new UserError(
    `Cannot find the handler module "${modulePath}" (relative to ${base}). Tried:\n` +
      tried.map((candidate) => `  ${candidate}\n`).join("") +
      `Create the file, or fix the path. ${HANDLER_FORMAT_HINT}`,
  );
}
