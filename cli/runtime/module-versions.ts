/**
 * Versions of a CommonJS handler whose modules load unbundled (see module-version-loader): a rebuild
 * after an edit compiles only the source files that changed, each alone, and writes a small entry file
 * that names every module's compiled code. Compiled code is stored by content under `<outDir>/modules/`,
 * so a version never changes once written and unchanged modules are shared by the versions that use them.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import * as esbuild from "esbuild";
import { stamp } from "./file-stamp";
import { requireSpecifiers, sameImports, type ModuleGraph } from "./module-graph";
import type { VersionManifest } from "./module-version-loader";

/** The options a module's code is built with, shared with the bundle build so the two agree. */
export const NODE_BUILD_OPTIONS = { platform: "node", target: "node20" } as const;

/** The runtime half, compiled next to this file: what each version's entry file calls. */
const LOADER = path.join(__dirname, "module-version-loader.js");

/** One source file's latest compiled code. */
interface Compiled {
  /** The source's stamp (size and modification time) when it was read for this code. */
  stamp: string;
  /** The code's file under `<outDir>/modules/`. */
  file: string;
  /** The specifiers the code requires. */
  required: Set<string>;
  /**
   * A bundle build succeeded with this code: its graph is right for it even where the specifiers seen
   * differ (a `require("...")` in a string), so they ask for no further refresh.
   */
  accepted: boolean;
}

export interface UpdateResult {
  /** A source's imports changed, or a source is gone: the graph must come from a bundle build again. */
  refresh: boolean;
  /** The sources compiled now (none when nothing changed). */
  compiled: string[];
}

export class ModuleVersions {
  private graph?: ModuleGraph;
  private readonly compiled = new Map<string, Compiled>();
  /** Code files on disk, and which each kept version uses. */
  private readonly written = new Set<string>();
  private readonly versions = new Map<number, Set<string>>();
  private readonly modulesDir: string;

  constructor(private readonly options: { outDir: string; cwd: string; entry: string }) {
    this.modulesDir = path.join(options.outDir, "modules");
  }

  /** Takes the graph of a bundle build; compiled code of files no longer in it is forgotten. */
  setGraph(graph: ModuleGraph): void {
    this.graph = graph;
    for (const source of this.compiled.keys()) if (!graph.has(source)) this.compiled.delete(source);
  }

  /**
   * Compiles the graph's sources that changed since they were last compiled (by their stamp) or that
   * are in `changed`. A source whose required specifiers differ from the graph's asks for a refresh,
   * unless a bundle build accepted its code: `accept` says the graph was just built from these sources.
   * Throws esbuild's failure on a build error.
   */
  async update(changed: ReadonlySet<string>, accept: boolean): Promise<UpdateResult> {
    const graph = this.graph;
    if (!graph) return { refresh: true, compiled: [] };
    const stale: { source: string; stamp: string }[] = [];
    for (const source of graph.keys()) {
      const now = stamp(source);
      if (now === "") return { refresh: true, compiled: [] };
      if (changed.has(source) || this.compiled.get(source)?.stamp !== now) stale.push({ source, stamp: now });
    }
    await Promise.all(stale.map(({ source, stamp: read }) => this.compile(source, read)));
    let refresh = false;
    for (const [source, known] of graph) {
      const code = this.compiled.get(source)!;
      if (accept) code.accepted = true;
      else if (!code.accepted && !sameImports(code.required, known)) refresh = true;
    }
    return { refresh, compiled: stale.map(({ source }) => source) };
  }

  /** Writes version `version`'s entry file (never rewritten) and returns its path. */
  async publish(version: number): Promise<string> {
    if (!this.graph) throw new Error("ModuleVersions.publish before a graph was set");
    const manifest: VersionManifest = { entry: this.options.entry, modules: {} };
    const used = new Set<string>();
    for (const [source, imports] of this.graph) {
      const code = this.compiled.get(source);
      if (!code) throw new Error(`pulumi-live: ${source} was not compiled`);
      manifest.modules[source] = { code: code.file, imports: Object.fromEntries(imports) };
      used.add(code.file);
    }
    const file = path.join(this.options.outDir, String(version), "index.cjs");
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(
      file,
      `"use strict";\n// Version ${version}: the handler's modules, each loaded from its own compiled code.\n` +
        `module.exports = require(${JSON.stringify(LOADER)}).loadVersion(module, ${JSON.stringify(manifest)});\n`,
    );
    this.versions.set(version, used);
    return file;
  }

  /** Removes the code that no version after `oldest` and no current source uses. */
  async prune(oldest: number): Promise<void> {
    for (const version of this.versions.keys()) if (version <= oldest) this.versions.delete(version);
    const used = new Set([...this.compiled.values()].map((c) => c.file));
    for (const files of this.versions.values()) for (const file of files) used.add(file);
    const unused = [...this.written].filter((file) => !used.has(file));
    for (const file of unused) this.written.delete(file);
    await Promise.all(unused.map((file) => rm(file, { force: true })));
  }

  /** Builds one source file alone, as the bundle build compiles it (the nearest tsconfig included). */
  private async compile(source: string, read: string): Promise<void> {
    // Never written (write: false); the output's folder is the source's, so the map's sources are its.
    const outfile = path.join(path.dirname(source), `${path.basename(source)}.pulumi-live.cjs`);
    const output = await esbuild.build({
      ...NODE_BUILD_OPTIONS,
      entryPoints: [source],
      absWorkingDir: this.options.cwd,
      bundle: false,
      format: "cjs",
      sourcemap: "inline",
      sourcesContent: true,
      write: false,
      logLevel: "silent",
      outfile,
    });
    const text = output.outputFiles.find((file) => file.path === outfile)?.text;
    if (text === undefined) throw new Error(`esbuild produced no code for ${source}`);
    const code = withAbsoluteSources(text, path.dirname(outfile));
    const file = path.join(this.modulesDir, `${createHash("sha1").update(code).digest("hex")}.js`);
    if (!this.written.has(file)) {
      await mkdir(this.modulesDir, { recursive: true });
      await writeFile(file, code);
      this.written.add(file);
    }
    this.compiled.set(source, { stamp: read, file, required: requireSpecifiers(code), accepted: false });
  }
}

/** The manifest of a version's entry file; undefined for a bundle (a version outside module mode). */
export function readVersionManifest(file: string): VersionManifest | undefined {
  const match = /\.loadVersion\(module, (.*)\);\n$/.exec(readFileSync(file, "utf8"));
  return match ? (JSON.parse(match[1]) as VersionManifest) : undefined;
}

/**
 * The code with its inline source map's sources made absolute: the code runs from a file under
 * `<outDir>/modules/`, and whatever reads the map (a debugger, Node.js) must not resolve them from there.
 */
function withAbsoluteSources(code: string, dir: string): string {
  const marker = "//# sourceMappingURL=data:application/json;base64,";
  const at = code.lastIndexOf(marker);
  if (at < 0) return code;
  const map = JSON.parse(Buffer.from(code.slice(at + marker.length).trim(), "base64").toString("utf8")) as {
    sources: string[];
  };
  map.sources = map.sources.map((source) => path.resolve(dir, source));
  return `${code.slice(0, at)}${marker}${Buffer.from(JSON.stringify(map)).toString("base64")}\n`;
}
