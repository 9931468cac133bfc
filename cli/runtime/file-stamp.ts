import { statSync } from "node:fs";

/** Size and modification time, to tell whether a file changed since it was read; "" when it is gone. */
export function stamp(file: string): string {
  const stats = statSync(file, { throwIfNoEntry: false });
  return stats ? `${stats.size}:${stats.mtimeMs}` : "";
}
