/**
 * Runs one version of a CommonJS handler unbundled: each source file's compiled code as a module of its
 * own (its own `module`, `exports`, `require`, `__filename` and `__dirname`, the source's), each import
 * where the bundle build resolved it. A version's file (written by ModuleVersions) holds every module's
 * code as a function and calls {@link loadVersion}; whoever requires the file gets the handler module's
 * exports.
 *
 * Nothing global is hooked: the modules of a version stay outside `require.cache`, so two versions
 * loaded in one thread never see each other's modules (a worker loads one; a test process may load many).
 */
import Module from "node:module";
import path from "node:path";
import type { ImportTarget } from "./module-graph";

/** What a version's file holds besides the code: the handler's source file and each module's imports. */
export interface VersionManifest {
  entry: string;
  /** Source file → where its specifiers lead; in the order of the version's module functions. */
  modules: Record<string, { imports: Record<string, ImportTarget> }>;
}

/** A module's compiled code, wrapped as Node.js wraps a CommonJS module. */
type ModuleFunction = (
  exports: unknown,
  require: NodeJS.Require,
  module: Module,
  filename: string,
  dirname: string,
) => void;

/** The parts of Node's CommonJS loader this uses (undocumented in its types, stable since v0.x). */
const NodeModule = Module as unknown as {
  new (id: string, parent?: Module): Module & { paths: string[]; filename: string; loaded: boolean };
  _nodeModulePaths(from: string): string[];
  _resolveFilename(request: string, parent: Module, isMain: boolean, options?: { paths?: string[] }): string;
  _cache: NodeJS.Require["cache"];
};

/** Loads the version's handler module; each call is a fresh copy of the version's modules. */
export function loadVersion(parent: Module, manifest: VersionManifest, functions: ModuleFunction[]): unknown {
  const sources = Object.keys(manifest.modules);
  const functionOf = new Map(sources.map((source, index) => [source, functions[index]]));
  const loaded = new Map<string, Module>();
  const load = (source: string, importer: Module): unknown => {
    const done = loaded.get(source);
    // A cycle gets the exports as far as they are, as Node.js's own loader gives them.
    if (done) return done.exports;
    const run = functionOf.get(source);
    if (!run) throw new Error(`pulumi-live: ${source} is not part of this build (its module graph)`);
    const imports = manifest.modules[source].imports;
    const module = new NodeModule(source, importer);
    module.filename = source;
    // Packages resolve from the importer's folder, as in the deployed bundle.
    module.paths = NodeModule._nodeModulePaths(path.dirname(source));
    loaded.set(source, module);
    const require = ((specifier: string): unknown => {
      const target = imports[specifier] as ImportTarget | undefined;
      if (target && "source" in target) return load(target.source, module);
      return Module.prototype.require.call(module, target && "file" in target ? target.file : specifier);
    }) as NodeJS.Require;
    require.resolve = ((request: string, options?: { paths?: string[] }) =>
      NodeModule._resolveFilename(request, module, false, options)) as NodeJS.RequireResolve;
    require.cache = NodeModule._cache;
    module.require = require;
    run.call(module.exports, module.exports, require, module, source, path.dirname(source));
    module.loaded = true;
    return module.exports;
  };
  return load(manifest.entry, parent);
}
