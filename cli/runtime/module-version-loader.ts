/**
 * Runs one version of a CommonJS handler unbundled: each source file from its own compiled module, each
 * import where the bundle build resolved it. A version's entry file (written by ModuleVersions) calls
 * {@link loadVersion}; the worker that requires it gets the handler module's exports.
 *
 * Nothing global is hooked: every module of a version is a `Module` of its own with its own `require`,
 * outside `require.cache`, so two versions loaded in one thread never see each other's modules (a worker
 * loads one; a test process may load many). Each is compiled under its source file's path, with an inline
 * source map whose sources are absolute: stack traces and breakpoints name the real files.
 */
import { readFileSync } from "node:fs";
import Module from "node:module";
import path from "node:path";
import type { ImportTarget } from "./module-graph";

/** What a version's entry file holds: the handler's source file and every module of the version. */
export interface VersionManifest {
  entry: string;
  /** Source file → its compiled code's file and where its specifiers lead. */
  modules: Record<string, { code: string; imports: Record<string, ImportTarget> }>;
}

/** The parts of Node's CommonJS loader this runs modules with (undocumented in its types, stable since v0.x). */
interface NodeModule extends Module {
  _compile(code: string, filename: string): unknown;
  paths: string[];
  filename: string;
  loaded: boolean;
  require(specifier: string): unknown;
}
const ModuleClass = Module as unknown as {
  new (id: string, parent?: Module): NodeModule;
  _nodeModulePaths(from: string): string[];
};

/** Loads the version's handler module (once per call: each call is a fresh copy of the version). */
export function loadVersion(parent: Module, manifest: VersionManifest): unknown {
  const loaded = new Map<string, NodeModule>();
  const load = (source: string, importer: Module): unknown => {
    const done = loaded.get(source);
    // A cycle gets the exports as far as they are, as Node.js's own loader gives them.
    if (done) return done.exports;
    const spec = manifest.modules[source];
    if (!spec) throw new Error(`pulumi-live: ${source} is not part of this build (its module graph)`);
    const module = new ModuleClass(source, importer);
    module.filename = source;
    // Packages resolve from the importer's folder, as in the deployed bundle.
    module.paths = ModuleClass._nodeModulePaths(path.dirname(source));
    loaded.set(source, module);
    // The module's `require` calls this (Node's makeRequireFunction); `require.resolve` stays Node's.
    module.require = (specifier: string): unknown => {
      const target = spec.imports[specifier] as ImportTarget | undefined;
      if (target && "source" in target) return load(target.source, module);
      return Module.prototype.require.call(module, target && "file" in target ? target.file : specifier);
    };
    module._compile(readFileSync(spec.code, "utf8"), source);
    module.loaded = true;
    return module.exports;
  };
  return load(manifest.entry, parent);
}
