import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Problems } from "./errors";

/** Source extensions a handler may have, in the order they are tried. */
export const SOURCE_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"] as const;

/** A `handler` argument resolved to a file on disk. */
export interface HandlerSource {
  /** Absolute path of the source file. */
  file: string;
  /** The export to call. */
  exportName: string;
  /** The handler as the CLI reads it: source path relative to the project root without extension, then `.export`. */
  relative: string;
  /** Module format of the source, which the bundle keeps. */
  format: "cjs" | "esm";
}

/**
 * The Pulumi project root (the folder of `Pulumi.yaml`), against which handlers resolve: the root the
 * engine reports, else the nearest folder with a `Pulumi.yaml` above the working directory, else the
 * working directory.
 */
export function projectRoot(): string {
  // Under test mocks the reported root is a placeholder, not a path.
  const reported = pulumi.runtime.getRootDirectory();
  if (reported && path.isAbsolute(reported) && fs.existsSync(reported)) return reported;
  let dir = process.cwd();
  for (;;) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml")) || fs.existsSync(path.join(dir, "Pulumi.yml")))
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** Resolves `src/api.handler` to the file and export it names; records a problem when it cannot. */
export function resolveHandler(
  handler: unknown,
  root: string,
  problems: Problems,
): HandlerSource | undefined {
  const match = typeof handler === "string" ? /^(.+)\.([A-Za-z_$][\w$]*)$/.exec(handler.trim()) : null;
  if (!match) {
    problems.add(
      "handler",
      `must be "<path>.<export>", got ${JSON.stringify(handler)}.`,
      'Name the source file without its extension and the export, e.g. "src/api.handler".',
    );
    return undefined;
  }
  const [, base, exportName] = match;
  const stem = base.replace(/\.(ts|mts|cts|js|mjs|cjs)$/, "");
  const file = SOURCE_EXTENSIONS.map((ext) => path.resolve(root, stem + ext)).find((f) => fs.existsSync(f));
  if (!file) {
    problems.add(
      "handler",
      `no file ${stem}{${SOURCE_EXTENSIONS.join(",")}} under ${root}.`,
      "Fix the path (it is relative to the folder of Pulumi.yaml) or create the file.",
    );
    return undefined;
  }
  const relative = path
    .relative(root, path.join(path.dirname(file), path.basename(stem)))
    .split(path.sep)
    .join("/");
  return { file, exportName, relative: `${relative}.${exportName}`, format: sourceFormat(file, root) };
}

/** `.mts`/`.mjs` are ESM, `.cts`/`.cjs` CommonJS, others follow the nearest package.json's `type`. */
export function sourceFormat(file: string, root: string): "cjs" | "esm" {
  if (/\.m[tj]s$/.test(file)) return "esm";
  if (/\.c[tj]s$/.test(file)) return "cjs";
  const stop = path.resolve(root);
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { type?: string }).type === "module"
          ? "esm"
          : "cjs";
      } catch {
        return "cjs";
      }
    }
    if (dir === stop || path.dirname(dir) === dir) return "cjs";
  }
}
