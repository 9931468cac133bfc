/**
 * Python handlers: which runtimes are Python, which file `src/app.handler` names, which folder is the
 * function's code (what is deployed, watched and put on `sys.path`), what of it is left out, and where a
 * project's virtualenv interpreter is. One rule for the SDK's package and the CLI's local runtime.
 * Node.js built-ins only.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";

/** The extension of a Python handler module. */
export const PYTHON_EXTENSION = ".py";

/** `python3.12` → `3.12`; undefined for any runtime that is not Lambda's CPython. */
export function pythonVersionOf(runtime: unknown): string | undefined {
  const match = typeof runtime === "string" ? /^python(3\.\d+)$/.exec(runtime) : null;
  return match ? match[1] : undefined;
}

/** Whether a Lambda runtime (`python3.12`) runs Python handlers. */
export function isPythonRuntime(runtime: unknown): boolean {
  return pythonVersionOf(runtime) !== undefined;
}

/** Whether a handler's source file is a Python module. */
export function isPythonFile(file: string): boolean {
  return path.extname(file) === PYTHON_EXTENSION;
}

/** The file a Python module path names: `src/app` → `<root>/src/app.py` (as given when it ends in .py). */
export function pythonHandlerCandidate(root: string, modulePath: string): string {
  const given = path.resolve(root, modulePath);
  return isPythonFile(given) ? given : given + PYTHON_EXTENSION;
}

/** The Python module a module path names, when it exists as a file; undefined otherwise. */
export function findPythonHandlerFile(root: string, modulePath: string): string | undefined {
  const file = pythonHandlerCandidate(root, modulePath);
  return statSync(file, { throwIfNoEntry: false })?.isFile() ? file : undefined;
}

/**
 * The function's code: the handler's folder. It is the deployed package's root (Lambda's
 * `LAMBDA_TASK_ROOT`), the local process's working folder and first `sys.path` entry, and what is watched.
 */
export function pythonCodeRoot(file: string): string {
  return path.dirname(path.resolve(file));
}

/** `app.handler`: the handler as Lambda names it inside the package (module relative to the code root). */
export function pythonLambdaHandler(file: string, exportName: string): string {
  return `${path.basename(file, PYTHON_EXTENSION)}.${exportName}`;
}

/**
 * Names left out of a Python function's package and not watched: caches, virtualenvs, tests, version
 * control, editors, and what a Node/Pulumi project keeps next to them.
 */
export const PYTHON_IGNORED_NAMES: ReadonlySet<string> = new Set([
  "__pycache__",
  ".venv",
  "venv",
  ".git",
  ".hg",
  ".svn",
  "node_modules",
  ".pulumi-live",
  ".pytest_cache",
  ".mypy_cache",
  ".ruff_cache",
  ".hypothesis",
  ".tox",
  ".nox",
  ".idea",
  ".vscode",
  ".DS_Store",
  "tests",
  "test",
]);

/**
 * Whether an entry of a Python function's code folder is left out: an ignored name, compiled bytecode,
 * egg-info, or any folder holding a virtualenv (`pyvenv.cfg`), whatever its name.
 */
export function isIgnoredPythonEntry(absolute: string, isDirectory: boolean): boolean {
  const name = path.basename(absolute);
  if (PYTHON_IGNORED_NAMES.has(name)) return true;
  if (!isDirectory) return name.endsWith(".pyc") || name.endsWith(".pyo");
  return name.endsWith(".egg-info") || existsSync(path.join(absolute, "pyvenv.cfg"));
}

/** The interpreter inside a virtualenv folder, as its platform lays it out. */
export function virtualenvPython(venv: string, platform: NodeJS.Platform = process.platform): string {
  return platform === "win32" ? path.join(venv, "Scripts", "python.exe") : path.join(venv, "bin", "python");
}

/**
 * The project's interpreter: `.venv` in the handler's folder, else `.venv` next to `Pulumi.yaml`; undefined
 * when neither exists (then `python3` on `PATH`). The path is not resolved: a virtualenv's `python` is a
 * link, and running it by its own path is what selects the virtualenv.
 */
export function findProjectPython(codeRoot: string, projectRoot: string | undefined): string | undefined {
  const folders = [codeRoot, ...(projectRoot ? [projectRoot] : [])];
  for (const folder of folders) {
    const candidate = virtualenvPython(path.join(folder, ".venv"));
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The interpreter used when the project has no virtualenv and none is named. */
export const DEFAULT_PYTHON = process.platform === "win32" ? "python" : "python3";

/** debugpy's own default port: while debugging, Python processes listen from here on, one port each. */
export const DEBUGPY_PORT = 5678;
