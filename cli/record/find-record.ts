/** Finds a record by request id (or a prefix of one) or by file path. */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../user-error";
import { LOG_DIR } from "./invocation-record";

/** Every record file under the project's log folder, oldest first. */
export async function listRecordFiles(root: string): Promise<string[]> {
  const logDir = path.join(root, LOG_DIR);
  const functions = await readdir(logDir).catch(() => [] as string[]);
  const files: { name: string; file: string }[] = [];
  for (const fn of functions) {
    const names = await readdir(path.join(logDir, fn)).catch(() => [] as string[]);
    for (const name of names)
      if (name.endsWith(".json")) files.push({ name, file: path.join(logDir, fn, name) });
  }
  return files.sort((a, b) => a.name.localeCompare(b.name)).map((f) => f.file);
}

/**
 * The record file that `target` names: an existing file, or a request id (or its first characters, as
 * the serve output shows them) found under `<root>/.pulumi-live/log/`.
 */
export async function findRecord(root: string, target: string): Promise<string> {
  const asPath = path.resolve(root, target);
  const stats = await stat(asPath).catch(() => undefined);
  if (stats?.isFile()) return asPath;
  const files = await listRecordFiles(root);
  const id = (file: string) => path.basename(file, ".json").slice(path.basename(file).indexOf("_") + 1);
  const exact = files.filter((file) => id(file) === target);
  const matches = exact.length > 0 ? exact : files.filter((file) => id(file).startsWith(target));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    throw new UserError(
      files.length === 0
        ? `No record "${target}": ${path.join(root, LOG_DIR)} holds no records yet. Serve an invocation with pulumi-live serve (recording is on unless --no-record), or pass a record file.`
        : `No record "${target}" under ${path.join(root, LOG_DIR)}. Pass a request id from the serve output or a record file.`,
    );
  }
  const shown = matches.slice(-5).map((file) => `  ${path.relative(root, file)}`);
  throw new UserError(
    `"${target}" matches ${matches.length} records; give more of the request id, or a file:\n${shown.join("\n")}`,
  );
}
