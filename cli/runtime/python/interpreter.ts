/** Which Python interpreter runs a function locally, and what it is. */
import { spawnSync } from "node:child_process";
import { DEFAULT_PYTHON, findProjectPython, pythonVersionOf } from "../../../core/python";
import { UserError } from "../../user-error";

/** An interpreter chosen for a function, and why that one. */
export interface ChosenInterpreter {
  command: string;
  /** `--python`, the project's `.venv`, or `python3` on PATH. */
  source: "flag" | "venv" | "path";
}

/**
 * The interpreter of a function whose code is in `codeRoot`: `--python` when given, else `.venv` in the
 * handler's folder or next to `Pulumi.yaml`, else `python3` on PATH.
 */
export function chooseInterpreter(
  flag: string | undefined,
  codeRoot: string,
  projectRoot: string | undefined,
): ChosenInterpreter {
  if (flag) return { command: flag, source: "flag" };
  const venv = findProjectPython(codeRoot, projectRoot);
  return venv ? { command: venv, source: "venv" } : { command: DEFAULT_PYTHON, source: "path" };
}

/** What an interpreter is: its `major.minor` version and whether debugpy imports in it. */
export interface InterpreterInfo {
  version: string;
  debugpy: boolean;
}

const PROBE =
  "import sys, importlib.util, json; " +
  'print(json.dumps({"version": "%d.%d" % sys.version_info[:2], ' +
  '"debugpy": importlib.util.find_spec("debugpy") is not None}))';

const probes = new Map<string, InterpreterInfo>();

/**
 * Runs the interpreter once to learn its version (cached per command for this process).
 * @throws UserError when it cannot run, saying how to choose another.
 */
export function probeInterpreter(chosen: ChosenInterpreter): InterpreterInfo {
  const cached = probes.get(chosen.command);
  if (cached) return cached;
  const run = spawnSync(chosen.command, ["-c", PROBE], { encoding: "utf8", timeout: 15_000 });
  let info: InterpreterInfo | undefined;
  try {
    if (run.status === 0) info = JSON.parse(run.stdout.trim().split("\n").pop() ?? "") as InterpreterInfo;
  } catch {
    info = undefined;
  }
  if (!info || typeof info.version !== "string") {
    const why = run.error ? run.error.message : (run.stderr || run.stdout).trim().split("\n").pop();
    const from = {
      flag: "given with --python",
      venv: "of the project's .venv",
      path: "on PATH",
    }[chosen.source];
    throw new UserError(
      `Cannot run the Python interpreter ${chosen.command} (${from}): ${why ?? "it exited with an error"}. ` +
        "Install Python 3 (python3 on PATH), create the project's virtualenv (python3 -m venv .venv next " +
        "to Pulumi.yaml or the handler), or pass --python PATH.",
    );
  }
  probes.set(chosen.command, info);
  return info;
}

/** A warning when the local interpreter is not the function's Lambda runtime's version; undefined if it is. */
export function versionWarning(
  functionName: string,
  runtime: string | undefined,
  chosen: ChosenInterpreter,
  info: InterpreterInfo,
): string | undefined {
  const wanted = pythonVersionOf(runtime);
  if (!wanted || wanted === info.version) return undefined;
  return (
    `${functionName} runs on ${runtime} in Lambda, but ${chosen.command} is Python ${info.version}: ` +
    `code that works here may fail there. Create the project's .venv with Python ${wanted} ` +
    `(python${wanted} -m venv .venv) or pass --python PATH.`
  );
}
