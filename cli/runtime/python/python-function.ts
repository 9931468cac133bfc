/** Sets up one Python function for serving: its interpreter, checked once, and its builder. */
import { findProjectRoot } from "../../../core/handler";
import { DEBUGPY_PORT, pythonCodeRoot } from "../../../core/python";
import type { BuildResult } from "../builder";
import { chooseInterpreter, probeInterpreter, versionWarning } from "./interpreter";
import { PythonBuilder } from "./python-builder";

export interface PythonFunctionOptions {
  name: string;
  /** Absolute path of the handler's `.py` file. */
  file: string;
  exportName: string;
  /** The function's Lambda runtime (`python3.12`), when known: the interpreter is checked against it. */
  runtime?: string;
  /** `--python PATH`, when given. */
  interpreter?: string;
  outDir: string;
  watch: boolean;
  /** The host debuggers reach, when debugging. */
  debugHost?: string;
  /** Messages for the person serving: version mismatch, where debugpy listens. */
  status: (message: string) => void;
  onBuild?: (result: BuildResult) => void;
}

/**
 * Chooses and checks the function's interpreter (a UserError when it cannot run), warns when its
 * version is not the function's runtime's or when debugging needs a debugpy it lacks, and returns the
 * function's builder (not started).
 */
export function pythonFunctionBuilder(options: PythonFunctionOptions): PythonBuilder {
  const { name, status } = options;
  const codeRoot = pythonCodeRoot(options.file);
  const chosen = chooseInterpreter(options.interpreter, codeRoot, findProjectRoot(codeRoot));
  const info = probeInterpreter(chosen);
  const warning = versionWarning(name, options.runtime, chosen, info);
  if (warning) status(warning);
  let debug: { host: string; port: number } | undefined;
  if (options.debugHost !== undefined) {
    if (info.debugpy) debug = { host: options.debugHost, port: DEBUGPY_PORT };
    else {
      status(
        `${name}: Python handlers are not attachable: debugpy is not installed in ${chosen.command} ` +
          `(${chosen.command} -m pip install debugpy).`,
      );
    }
  }
  return new PythonBuilder({
    name,
    entry: options.file,
    exportName: options.exportName,
    outDir: options.outDir,
    watch: options.watch,
    launch: {
      interpreter: chosen.command,
      runtime: options.runtime ?? `python${info.version}`,
      debug,
      onDebugger: (e) =>
        status(
          e.error
            ? `${name}: the Python debugger did not start: ${e.error}`
            : `${name}: Python debugger (debugpy) listening on ${e.host}:${e.port}`,
        ),
    },
    onBuild: options.onBuild,
  });
}
