/**
 * A function's incremental esbuild bundle build: what versions outside module mode load, and where
 * module mode takes its module graph from (the metafile).
 */
import path from "node:path";
import * as esbuild from "esbuild";
import { ESM_REQUIRE_BANNER } from "../../core/handler";
import { NODE_BUILD_OPTIONS } from "./module-versions";
import { localPackageNames, packageResolution } from "./package-resolution";

export type BundleOutput = esbuild.BuildResult<{ metafile: true; write: false }>;

export class BundleContext {
  private context?: esbuild.BuildContext<{ metafile: true; write: false }>;
  /** Packages resolved from their importer's folder (see localPackageNames), and the folders scanned. */
  private localPackages: Set<string>;
  private readonly scanned = new Map<string, string[]>();

  constructor(
    private readonly options: { entry: string; format: "cjs" | "esm"; outDir: string; cwd: string },
  ) {
    this.localPackages = localPackageNames([path.dirname(options.entry)], options.outDir, this.scanned);
  }

  /** Builds, incrementally after the first time. Throws esbuild's failure. */
  async rebuild(): Promise<BundleOutput> {
    this.context ??= await this.create();
    let output = await this.context.rebuild();
    // Sources in folders not seen before (a workspace package's, now bundled) may see packages of
    // their own node_modules: a new context resolves those from there too.
    for (let round = 0; round < 3; round++) {
      const dirs = this.sourceInputs(output.metafile).map((input) => path.dirname(input));
      const names = localPackageNames(dirs, this.options.outDir, this.scanned);
      if ([...names].every((name) => this.localPackages.has(name))) break;
      this.localPackages = new Set([...this.localPackages, ...names]);
      await this.context.dispose();
      this.context = await this.create();
      output = await this.context.rebuild();
    }
    return output;
  }

  /** Absolute paths of the source files in a build (node_modules excluded). */
  sourceInputs(metafile: esbuild.Metafile): string[] {
    return Object.keys(metafile.inputs)
      .filter((input) => !/^[a-z-]+:/i.test(input) || path.isAbsolute(input))
      .map((input) => path.resolve(this.options.cwd, input))
      .filter((input) => !input.split(path.sep).includes("node_modules"));
  }

  async dispose(): Promise<void> {
    const context = this.context;
    this.context = undefined;
    await context?.dispose();
  }

  private create(): Promise<esbuild.BuildContext<{ metafile: true; write: false }>> {
    const { entry, format, outDir, cwd } = this.options;
    return esbuild.context({
      entryPoints: [entry],
      absWorkingDir: cwd,
      ...NODE_BUILD_OPTIONS,
      bundle: true,
      // Packages stay out of the bundle; those the build's folder would not find as the importer does
      // resolve from the importer's folder (see packageResolution).
      packages: "external",
      plugins: [packageResolution(format, this.localPackages)],
      format,
      banner: format === "esm" ? { js: ESM_REQUIRE_BANNER } : undefined,
      sourcemap: "inline",
      sourcesContent: true,
      metafile: true,
      write: false,
      logLevel: "silent",
      // Source map paths are relative to the outfile's folder; this one sits at the same depth as the
      // `<outDir>/<version>/` folders the bundle is written to, so those paths resolve from there too.
      outfile: path.join(outDir, "current", `index.${format === "esm" ? "mjs" : "cjs"}`),
    });
  }
}
