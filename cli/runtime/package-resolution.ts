/**
 * Where a live build's bare imports (`pkg`, `@scope/pkg/sub`) resolve: from the folder of the file that
 * imports them, as esbuild resolves them when it bundles the deployed function — not from wherever the
 * build is written. Installed packages stay out of the incremental bundle (rebuilds stay fast) but are
 * pinned to the file Node.js would load from the importer's folder, so a package linked only in the
 * handler's own `node_modules` (npm and pnpm workspaces) is found. Workspace packages linked to source
 * outside any `node_modules` are bundled, as the deployed bundle bundles them, and watched with the rest.
 *
 * Only the packages that need it go through the plugin: esbuild calls a plugin for every import on every
 * rebuild, so the others (found the same from the build's folder) stay plain externals.
 */
import { readdirSync, realpathSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

type Resolve = (specifier: string, resolveDir: string) => Promise<string | undefined>;

/**
 * The esbuild plugin for a build in `format` (with `packages: "external"`), for the packages `names`
 * (see {@link localPackageNames}). Each (folder, specifier, module system) is resolved once per builder.
 */
export function packageResolution(format: "cjs" | "esm", names: ReadonlySet<string>): esbuild.Plugin {
  const escaped = [...names].map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  return {
    name: "pulumi-live-package-resolution",
    setup(build) {
      if (escaped.length === 0) return;
      const filter = new RegExp(`^(${escaped.join("|")})(/|$)`);
      const cache = new Map<string, esbuild.OnResolveResult | undefined>();
      let esmResolver: { resolve: Resolve; dispose(): Promise<void> } | undefined;
      build.onDispose(() => void esmResolver?.dispose());
      const resolve = async (args: esbuild.OnResolveArgs, system: "cjs" | "esm", key: string) => {
        let file: string | undefined;
        if (system === "cjs") file = requireResolve(args.path, args.resolveDir);
        else {
          esmResolver ??= await nodeEsmResolver();
          file = await esmResolver.resolve(args.path, args.resolveDir);
        }
        // A package: pinned to that file, still external. A workspace package's source: bundled, as the
        // deployed bundle bundles it. Not found: left to the build's `packages: "external"`, for Node to
        // report at run time (Runtime.ImportModuleError) if the import is reached.
        let result: esbuild.OnResolveResult | undefined;
        if (file && inNodeModules(file)) {
          result = { path: system === "esm" ? pathToFileURL(file).href : file, external: true };
        } else if (file) {
          result = { path: file };
        }
        cache.set(key, result);
        return result;
      };
      // Synchronous once cached: esbuild calls this for every such import on every rebuild.
      build.onResolve({ filter }, (args) => {
        if (isBuiltin(args.path) || path.isAbsolute(args.path) || !args.resolveDir) return undefined;
        const system = moduleSystem(format, args.kind);
        const key = `${system}\u0000${args.resolveDir}\u0000${args.path}`;
        return cache.has(key) ? cache.get(key) : resolve(args, system, key);
      });
    },
  };
}

/** How Node will load the import in the output: CommonJS output turns imports into `require()`. */
function moduleSystem(format: "cjs" | "esm", kind: esbuild.ImportKind): "cjs" | "esm" {
  if (kind === "require-call" || kind === "require-resolve") return "cjs";
  if (kind === "dynamic-import") return "esm";
  return format;
}

/** Node's own `require.resolve` from a folder: the file, symlinks resolved, or undefined. */
function requireResolve(specifier: string, resolveDir: string): string | undefined {
  try {
    const resolved = createRequire(path.join(resolveDir, "noop.js")).resolve(specifier);
    return path.isAbsolute(resolved) ? resolved : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Node's ES module resolution from a folder, by esbuild's resolver set to Node's conditions (`import`,
 * `node`, `default`, no bundler-only `module`) and fields (`main` only): CommonJS code cannot ask Node.
 */
async function nodeEsmResolver(): Promise<{ resolve: Resolve; dispose(): Promise<void> }> {
  let resolveWith: esbuild.PluginBuild["resolve"] | undefined;
  const context = await esbuild.context({
    stdin: { contents: "" },
    bundle: true,
    platform: "node",
    conditions: [],
    mainFields: ["main"],
    write: false,
    logLevel: "silent",
    plugins: [{ name: "resolver", setup: (build) => void (resolveWith = build.resolve.bind(build)) }],
  });
  return {
    async resolve(specifier, resolveDir) {
      const result = await resolveWith?.(specifier, { kind: "import-statement", resolveDir });
      return result && result.errors.length === 0 && !result.external && path.isAbsolute(result.path)
        ? result.path
        : undefined;
    },
    dispose: () => context.dispose(),
  };
}

function inNodeModules(file: string): boolean {
  return file.split(/[\\/]/).includes("node_modules");
}

/**
 * The package names a build must resolve through {@link packageResolution}: those in `node_modules`
 * folders that the sources' folders see and the build's folder does not, and workspace packages (links
 * to source outside any `node_modules`) wherever the sources see them. `scanned` caches folders' names.
 */
export function localPackageNames(
  sourceDirs: Iterable<string>,
  outDir: string,
  scanned: Map<string, string[]>,
): Set<string> {
  const outside = new Set(ancestors(outDir));
  const names = new Set<string>();
  for (const dir of new Set(sourceDirs)) {
    for (const folder of ancestors(dir)) {
      const modules = path.join(folder, "node_modules");
      let found = scanned.get(modules);
      if (!found) {
        found = packagesIn(modules, !outside.has(folder));
        scanned.set(modules, found);
      }
      for (const name of found) names.add(name);
    }
  }
  return names;
}

function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    out.push(current);
    if (path.dirname(current) === current) return out;
  }
}

/** The packages of a node_modules folder: all of them, or only the links to source outside one. */
function packagesIn(modules: string, all: boolean): string[] {
  const names: string[] = [];
  const visit = (folder: string, scope: string) => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const name = scope ? `${scope}/${entry.name}` : entry.name;
      if (!scope && entry.name.startsWith("@") && entry.isDirectory())
        visit(path.join(folder, entry.name), entry.name);
      else if (all || (entry.isSymbolicLink() && isWorkspaceLink(path.join(folder, entry.name))))
        names.push(name);
    }
  };
  visit(modules, "");
  return names;
}

function isWorkspaceLink(link: string): boolean {
  try {
    return !inNodeModules(realpathSync(link));
  } catch {
    return false;
  }
}
