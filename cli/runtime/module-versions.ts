/**
 * Versions of a CommonJS handler whose modules run unbundled (see module-version-loader): a rebuild
 * after an edit compiles only the source files that changed, each alone, and writes the version as one
 * file that holds every module's compiled code, each in a function of its own, and one source map
 * joined from the modules' maps. One file, not a file per module: a worker compiles one script, as fast
 * as it compiles a bundle (50 scripts took it 4–10 times as long).
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import * as esbuild from "esbuild";
import { stamp } from "./file-stamp";
import { requireSpecifiers, sameImports, type ModuleGraph } from "./module-graph";
import type { VersionManifest } from "./module-version-loader";
import { joinMappings, prepareMap, type PreparedMap } from "./source-map-join";

/** The options a module's code is built with, shared with the bundle build so the two agree. */
export const NODE_BUILD_OPTIONS = { platform: "node", target: "node20" } as const;

/** The runtime half, compiled next to this file: what each version's file calls. */
const LOADER = path.join(__dirname, "module-version-loader.js");

/** One source file's latest compiled code. */
interface Compiled {
  /** The source's stamp (size and modification time) when it was read for this code. */
  stamp: string;
  /** The code, ending with a line break, without a source map comment; `lines` lines long. */
  code: string;
  lines: number;
  map: PreparedMap;
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

  constructor(private readonly options: { outDir: string; cwd: string; entry: string }) {}

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

  /** Writes version `version`'s file (never rewritten) and returns its path. */
  async publish(version: number): Promise<string> {
    if (!this.graph) throw new Error("ModuleVersions.publish before a graph was set");
    const manifest: VersionManifest = { entry: this.options.entry, modules: {} };
    for (const [source, imports] of this.graph)
      manifest.modules[source] = { imports: Object.fromEntries(imports) };
    const parts = [
      `// Version ${version}: the handler's modules, each compiled alone, run unbundled.\n`,
      `module.exports = require(${JSON.stringify(LOADER)}).loadVersion(module, ${JSON.stringify(manifest)}, [\n`,
    ];
    let line = 2;
    const placed: { map: PreparedMap; startLine: number }[] = [];
    for (const source of this.graph.keys()) {
      const code = this.compiled.get(source);
      if (!code) throw new Error(`pulumi-live: ${source} was not compiled`);
      // Each module's code starts a line, so its map moves down by lines only.
      // In parentheses, so V8 compiles the function at once instead of parsing it twice (lazily).
      parts.push("(function (exports, require, module, __filename, __dirname) {\n", code.code, "}),\n");
      placed.push({ map: code.map, startLine: line + 1 });
      line += code.lines + 2;
    }
    parts.push("]);\n");
    const sources = [...this.graph.keys()];
    const map =
      `{"version":3,"sources":${JSON.stringify(sources)},"sourcesContent":[` +
      sources.map((source) => this.compiled.get(source)!.map.contentJson).join(",") +
      `],"names":[],"mappings":${JSON.stringify(joinMappings(placed, line + 1))}}`;
    parts.push(`//# sourceMappingURL=data:application/json;base64,${Buffer.from(map).toString("base64")}\n`);
    const file = path.join(this.options.outDir, String(version), "index.cjs");
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, parts.join(""));
    return file;
  }

  /** Builds one source file alone, as the bundle build compiles it (the nearest tsconfig included). */
  private async compile(source: string, read: string): Promise<void> {
    // Never written (write: false); the output's folder is the source's, so the map's source is its name.
    const outfile = path.join(path.dirname(source), `${path.basename(source)}.pulumi-live.cjs`);
    const output = await esbuild.build({
      ...NODE_BUILD_OPTIONS,
      entryPoints: [source],
      absWorkingDir: this.options.cwd,
      bundle: false,
      format: "cjs",
      sourcemap: "external",
      sourcesContent: true,
      write: false,
      logLevel: "silent",
      outfile,
    });
    const text = output.outputFiles.find((file) => file.path === outfile)?.text;
    const mapText = output.outputFiles.find((file) => file.path === `${outfile}.map`)?.text;
    if (text === undefined || mapText === undefined)
      throw new Error(`esbuild produced no code for ${source}`);
    const code = text.endsWith("\n") || text === "" ? text : `${text}\n`;
    const lines = code.split("\n").length - 1;
    const map = prepareMap(JSON.parse(mapText) as { mappings: string; sourcesContent?: string[] }, lines);
    this.compiled.set(source, {
      stamp: read,
      code,
      lines,
      map,
      required: requireSpecifiers(code),
      accepted: false,
    });
  }
}

/** The manifest of a version's file; undefined for a bundle (a version outside module mode). */
export function readVersionManifest(file: string): VersionManifest | undefined {
  const match = /\.loadVersion\(module, (.*), \[\n/.exec(readFileSync(file, "utf8"));
  return match ? (JSON.parse(match[1]) as VersionManifest) : undefined;
}
