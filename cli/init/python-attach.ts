/** The VS Code configuration that attaches to Python handlers, and when a project needs it. */
import { readdirSync } from "node:fs";
import path from "node:path";
import { DEBUGPY_PORT, isIgnoredPythonEntry, isPythonFile } from "../../core/python";

export const PYTHON_ATTACH_NAME = "pulumi-live: attach to Python handlers";

/**
 * Attaches VS Code's Python debugger to the first Python process `serve` starts while debugging (under
 * `--inspect`, or the "pulumi-live serve" configuration); each further one listens on the next port.
 */
export const PYTHON_ATTACH_CONFIGURATION = {
  type: "debugpy",
  request: "attach",
  name: PYTHON_ATTACH_NAME,
  connect: { host: "127.0.0.1", port: DEBUGPY_PORT },
  justMyCode: true,
};

/** Whether a project holds Python sources (outside virtualenvs, caches and node_modules), looking a few levels down. */
export function hasPythonSources(dir: string, depth = 4): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const entry of entries) {
    const absolute = path.join(dir, entry.name);
    if (isIgnoredPythonEntry(absolute, entry.isDirectory())) continue;
    if (entry.isFile() && isPythonFile(entry.name)) return true;
    if (entry.isDirectory() && depth > 1 && hasPythonSources(absolute, depth - 1)) return true;
  }
  return false;
}
