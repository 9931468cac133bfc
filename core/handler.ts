/**
 * Handlers: how `src/api.handler` names a source file and its export, which module format that file has,
 * and where the Pulumi project it belongs to starts. One rule for the SDK's deployed bundle and the CLI's
 * live build, so both always pick the same file and the same format. Node.js built-ins only.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/** Source extensions a handler module may have, in the order they are tried. */
export const SOURCE_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"] as const;

/** Files that mark a Pulumi project's root folder. */
export const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.yml"] as const;

/** `src/api.handler`, split: the module path (no extension) and the export. */
export interface HandlerName {
  modulePath: string;
  exportName: string;
}

/** What a handler resolved to on disk. */
export interface HandlerSource {
  /** Absolute path of the source file. */
  file: string;
  exportName: string;
  /** Module format of the source, as Node.js would load it. */
  format: "cjs" | "esm";
}

/** An export Lambda can name: a JavaScript identifier (Lambda reads further dots as nested properties). */
const EXPORT = /^[A-Za-z_$][\w$]*$/;

/**
 * Splits `path/to/file.export`. The export follows the last dot of the last path segment, so folders
 * may hold dots (`my.app/src/api.handler`). Undefined when no export is named.
 */
export function splitHandler(handler: string): HandlerName | undefined {
  const text = handler.trim();
  const lastSeparator = Math.max(text.lastIndexOf("/"), text.lastIndexOf("\\"));
  const dot = text.lastIndexOf(".");
  if (dot <= lastSeparator + 1) return undefined;
  const exportName = text.slice(dot + 1);
  if (!EXPORT.test(exportName)) return undefined;
  return { modulePath: text.slice(0, dot), exportName };
}

/** How to write a handler, for messages. */
export const HANDLER_FORMAT_HINT =
  "Name the source file without its extension, a dot and the exported function, e.g. src/api.handler " +
  'for export "handler" of src/api.ts.';

/**
 * The files a module path may name, in the order they are tried: the path as given when it already has a
 * source extension, then the path with each of {@link SOURCE_EXTENSIONS}.
 */
export function handlerCandidates(root: string, modulePath: string): string[] {
  const given = path.resolve(root, modulePath);
  const hasExtension = (SOURCE_EXTENSIONS as readonly string[]).includes(path.extname(given));
  return [...(hasExtension ? [given] : []), ...SOURCE_EXTENSIONS.map((ext) => given + ext)];
}

/** The first candidate that is a file, or undefined. */
export function findHandlerFile(root: string, modulePath: string): string | undefined {
  return handlerCandidates(root, modulePath).find(isFile);
}

/** Resolves `path/to/file.export` under `root`; undefined when it names no export or no file exists. */
export function resolveHandler(root: string, handler: string): HandlerSource | undefined {
  const name = splitHandler(handler);
  const file = name && findHandlerFile(root, name.modulePath);
  return file ? { file, exportName: name.exportName, format: moduleFormat(file) } : undefined;
}

/** `src/api.handler`: the handler of `file` written relative to `root`, without the extension. */
export function relativeHandler(root: string, file: string, exportName: string): string {
  const relative = path.relative(root, file).split(path.sep).join("/");
  return `${relative.slice(0, relative.length - path.extname(relative).length)}.${exportName}`;
}

/**
 * The module format Node.js gives a file: ESM for `.mts/.mjs`, CommonJS for `.cts/.cjs`, else the
 * `type` of the nearest `package.json` above it (as Node looks it up, up to the filesystem root).
 */
export function moduleFormat(file: string): "cjs" | "esm" {
  const ext = path.extname(file);
  if (ext === ".mts" || ext === ".mjs") return "esm";
  if (ext === ".cts" || ext === ".cjs") return "cjs";
  for (let dir = path.dirname(path.resolve(file)); ; dir = path.dirname(dir)) {
    const type = packageType(path.join(dir, "package.json"));
    if (type !== undefined) return type === "module" ? "esm" : "cjs";
    if (path.dirname(dir) === dir) return "cjs";
  }
}

/** The package.json's `type`, "" when it has none or cannot be parsed, undefined when there is none. */
function packageType(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { type?: unknown };
    return typeof pkg.type === "string" ? pkg.type : "";
  } catch {
    return "";
  }
}

/** The folder of the nearest `Pulumi.yaml` at or above `dir`, as the pulumi CLI finds it; undefined if none. */
export function findProjectRoot(dir: string): string | undefined {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (PROJECT_FILES.some((name) => existsSync(path.join(current, name)))) return current;
    if (path.dirname(current) === current) return undefined;
  }
}

/**
 * Defines `require` in an ESM bundle, so bundled CommonJS code can load Node's built-ins and externals.
 * The alias cannot clash with the user's own imports.
 */
export const ESM_REQUIRE_BANNER =
  'import { createRequire as __pulumiLiveCreateRequire } from "node:module";\n' +
  "const require = __pulumiLiveCreateRequire(import.meta.url);";

function isFile(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}
