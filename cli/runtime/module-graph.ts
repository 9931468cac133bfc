/**
 * The module graph of a CommonJS handler as the bundle build resolved it: for each source file, where each
 * of its import specifiers leads. Loading the modules unbundled (see module-version-loader) follows it, so
 * tsconfig `paths`, `.js` specifiers of `.ts` files and packages pinned to the importer's folder (see
 * package-resolution) lead where they lead in the bundle.
 */
import path from "node:path";
import type * as esbuild from "esbuild";

/** Where one import specifier of a module leads. */
export type ImportTarget =
  /** Another source file of the graph, loaded from its own transform. */
  | { source: string }
  /** An installed package's file, pinned as esbuild's plugin pinned it (see package-resolution). */
  | { file: string }
  /** A package or built-in, required from the importer's folder as Node.js would. */
  | { package: string };

/** Source file → (specifier → target). */
export type ModuleGraph = Map<string, Map<string, ImportTarget>>;

/**
 * Loaders whose output is plain CommonJS code when built alone: anything else (text, file, css ...)
 * exists only inside a bundle, so a graph with it stays bundled.
 */
const UNBUNDLED_EXTENSIONS = new Set([".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json"]);

/**
 * The graph of a bundle build's metafile (paths in it relative to `cwd`), or why its modules cannot run
 * unbundled: then the function keeps loading bundles.
 */
export function graphFromMetafile(
  metafile: esbuild.Metafile,
  cwd: string,
): { graph: ModuleGraph } | { unsupported: string } {
  const graph: ModuleGraph = new Map();
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    if (/^[a-z-]+:/i.test(input) && !path.isAbsolute(input)) return { unsupported: `${input} is virtual` };
    const source = path.resolve(cwd, input);
    if (!UNBUNDLED_EXTENSIONS.has(path.extname(source).toLowerCase())) {
      return { unsupported: `${input} needs esbuild's ${path.extname(source)} loader` };
    }
    const targets = new Map<string, ImportTarget>();
    for (const imported of imports) {
      // `import()` and `require.resolve` of a bundled file have no unbundled twin that Node.js would load.
      if (imported.kind !== "import-statement" && imported.kind !== "require-call") {
        if (!imported.external) return { unsupported: `${input} has a ${imported.kind} of ${imported.path}` };
        continue;
      }
      const specifier = imported.original ?? imported.path;
      targets.set(
        specifier,
        !imported.external
          ? { source: path.resolve(cwd, imported.path) }
          : path.isAbsolute(imported.path)
            ? { file: imported.path }
            : { package: imported.path },
      );
    }
    graph.set(source, targets);
  }
  return { graph };
}

/**
 * The specifiers a CommonJS module's code requires with a string literal, as esbuild prints them. A
 * `require("...")` inside a string or comment shows too: at worst it asks for a graph refresh.
 */
export function requireSpecifiers(code: string): Set<string> {
  return new Set(
    [...code.matchAll(/\brequire\(("(?:[^"\\\n]|\\.)*")\)/g)].map((m) => JSON.parse(m[1]) as string),
  );
}

/** Whether a module's required specifiers are exactly those the graph knows for it. */
export function sameImports(
  required: ReadonlySet<string>,
  known: ReadonlyMap<string, unknown> | undefined,
): boolean {
  if (!known || required.size !== known.size) return false;
  return [...required].every((specifier) => known.has(specifier));
}
