import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * ESM for `.mts/.mjs`, and for `.ts/.js` under a package.json with `"type": "module"`, as Node
 * would load the file; CommonJS otherwise.
 */
export function moduleFormat(entry: string): "cjs" | "esm" {
  const ext = path.extname(entry);
  if (ext === ".mts" || ext === ".mjs") return "esm";
  if (ext === ".cts" || ext === ".cjs") return "cjs";
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    const type = packageType(path.join(dir, "package.json"));
    if (type !== undefined) return type === "module" ? "esm" : "cjs";
    if (path.dirname(dir) === dir) return "cjs";
  }
}

/** The package.json's "type", "" when it has none, undefined when there is no readable file. */
function packageType(file: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { type?: unknown };
    return typeof pkg.type === "string" ? pkg.type : "";
  } catch {
    return undefined;
  }
}
