import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { watch, type FSWatcher } from "chokidar";
import * as esbuild from "esbuild";
import { ESM_REQUIRE_BANNER, moduleFormat } from "../../core/handler";
import { errorFiles, formatBuildError } from "./build-messages";
import { stamp } from "./file-stamp";
import { graphFromMetafile } from "./module-graph";
import { ModuleVersions, NODE_BUILD_OPTIONS } from "./module-versions";
import { localPackageNames, packageResolution } from "./package-resolution";

/** The outcome of one build of a function. */
export type BuildResult =
  | {
      ok: true;
      /** Increases with every build attempt of this builder. */
      version: number;
      /**
       * This version's file, never overwritten by later builds: its bundle, or (CommonJS in module mode)
       * the entry that loads its modules unbundled (see module-version-loader).
       */
      file: string;
      format: "cjs" | "esm";
      /** The handler's source file. */
      entry: string;
      durationMs: number;
      /** Absolute paths of the source files in the bundle (node_modules excluded). */
      inputs: string[];
      /** In module mode, the source files this build compiled (the others' code was reused). */
      compiled?: string[];
    }
  | {
      ok: false;
      version: number;
      entry: string;
      /** esbuild's messages, each naming file:line:column. */
      error: string;
      durationMs: number;
    };

/** A successful build. */
export type GoodBuild = Extract<BuildResult, { ok: true }>;

export interface FunctionBuilderOptions {
  /** The function's name, for messages. */
  name: string;
  /** Absolute path of the handler's source file. */
  entry: string;
  exportName: string;
  /**
   * Where versions are written, inside the project so bare imports resolve to its node_modules. The
   * builder owns it: `start()` empties it and `dispose()` removes it, so no two builders may share one.
   */
  outDir: string;
  /** Rebuild when a source file of the bundle changes. */
  watch: boolean;
  /** Called after every build, good or broken. */
  onBuild?: (result: BuildResult) => void;
  /** Paths in error messages are relative to this folder. @default process.cwd() */
  cwd?: string;
  /**
   * Module mode: a CommonJS handler's versions load its modules unbundled, so a rebuild after an edit
   * compiles only the changed files (see module-versions). ES module handlers are always bundled.
   * @default true
   */
  modules?: boolean;
}

/** After a change event, when to look for a later change chokidar's 50 ms throttle may have hidden. */
const TRAILING_CHECK_MS = 60;

/**
 * How many written versions stay on disk: workers may still be loading a recent one. The newest good
 * version, the one invocations run, is always among them: pruning follows a good build and removes only
 * versions older than it.
 */
const KEPT_VERSIONS = 3;

/**
 * Builds one function's handler with an incremental esbuild context and, when watching, rebuilds it
 * whenever chokidar sees one of the bundle's source files change. Every good build is a new file, so
 * a worker that loaded an older version keeps running it.
 */
export class FunctionBuilder {
  readonly format: "cjs" | "esm";
  private readonly options: FunctionBuilderOptions;
  private readonly cwd: string;
  private context?: esbuild.BuildContext<{ metafile: true; write: false }>;
  private watcher?: FSWatcher;
  private watched = new Set<string>();
  private version = 0;
  private latest?: BuildResult;
  private running?: Promise<BuildResult>;
  private queued?: Promise<BuildResult>;
  /** Resolves once the running build's result is the latest (before old versions are pruned). */
  private published?: Promise<void>;
  private publish?: () => void;
  private disposed?: Promise<void>;
  /** Files changed since the last build started. */
  private dirty = new Set<string>();
  /** What each changed file looked like when a build last read it. */
  private builtStamps = new Map<string, string>();
  private trailingChecks = new Map<string, NodeJS.Timeout>();
  /** Packages resolved from their importer's folder (see localPackageNames), and the folders scanned. */
  private localPackages = new Set<string>();
  private readonly scanned = new Map<string, string[]>();
  /** Module mode's versions (CommonJS only), and whether the current graph can load unbundled. */
  private readonly modules?: ModuleVersions;
  private unbundled = false;
  /** The source files of the last bundle build: a module-mode build keeps its graph, so these too. */
  private graphInputs: string[] = [];

  constructor(options: FunctionBuilderOptions) {
    this.options = options;
    this.cwd = options.cwd ?? process.cwd();
    this.format = moduleFormat(options.entry);
    if (this.format === "cjs" && options.modules !== false) {
      this.modules = new ModuleVersions({ outDir: options.outDir, cwd: this.cwd, entry: options.entry });
    }
  }

  /** Creates the esbuild context, builds once and, when watching, starts watching the inputs. */
  async start(): Promise<BuildResult> {
    if (this.context) throw new Error(`FunctionBuilder "${this.options.name}" was already started`);
    // Versions of an earlier run in this folder are stale: nothing runs them any more (the folder is
    // this builder's own, see FunctionBuilderOptions.outDir).
    await rm(this.options.outDir, { recursive: true, force: true });
    this.localPackages = localPackageNames(
      [path.dirname(this.options.entry)],
      this.options.outDir,
      this.scanned,
    );
    this.context = await this.createContext();
    const first = await this.rebuild();
    if (this.options.watch) await this.startWatching();
    return first;
  }

  private createContext(): Promise<esbuild.BuildContext<{ metafile: true; write: false }>> {
    const ext = this.format === "esm" ? "mjs" : "cjs";
    return esbuild.context({
      entryPoints: [this.options.entry],
      absWorkingDir: this.cwd,
      ...NODE_BUILD_OPTIONS,
      bundle: true,
      // Packages stay out of the bundle; those the build's folder would not find as the importer does
      // resolve from the importer's folder (see packageResolution).
      packages: "external",
      plugins: [packageResolution(this.format, this.localPackages)],
      format: this.format,
      banner: this.format === "esm" ? { js: ESM_REQUIRE_BANNER } : undefined,
      sourcemap: "inline",
      sourcesContent: true,
      metafile: true,
      write: false,
      logLevel: "silent",
      // Source map paths are relative to the outfile's folder; this one sits at the same depth as the
      // `<outDir>/<version>/` folders the bundle is written to, so those paths resolve from there too.
      outfile: path.join(this.options.outDir, "current", `index.${ext}`),
    });
  }

  /** Builds now; calls made while a build runs coalesce into one build after it. */
  rebuild(): Promise<BuildResult> {
    if (!this.running) {
      const published = new Promise<void>((resolve) => {
        this.publish = () => {
          if (this.published === published) this.published = undefined;
          this.publish = undefined;
          resolve();
        };
      });
      this.published = published;
      this.running = this.build()
        .finally(() => this.publish?.())
        .finally(() => (this.running = undefined));
      return this.running;
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.rebuild();
    });
    return this.queued;
  }

  /** The files being watched for changes (none when not watching or disposed). */
  watchedFiles(): string[] {
    return this.watcher && !this.disposed ? [...this.watched].sort() : [];
  }

  /** The latest build: while it is broken, invocations must fail with its error. */
  current(): BuildResult | undefined {
    return this.latest;
  }

  /**
   * Waits for builds under way (for their results, not for old versions' removal after them), then gives
   * the latest build (the last good one unless it broke since).
   */
  async ready(): Promise<BuildResult> {
    while (this.published || this.queued) await (this.queued ?? this.published);
    if (!this.latest) throw new Error(`FunctionBuilder "${this.options.name}" was not started`);
    return this.latest;
  }

  /**
   * Stops watching, frees the esbuild context and removes the outDir with every version in it (so close
   * the workers running them first). Idempotent.
   */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      for (const check of this.trailingChecks.values()) clearTimeout(check);
      await Promise.allSettled([this.running, this.queued]);
      await Promise.allSettled([this.watcher?.close(), this.context?.dispose()]);
      await rm(this.options.outDir, { recursive: true, force: true }).catch((removeError: unknown) =>
        console.error(`pulumi-live: removing the builds of "${this.options.name}" failed:`, removeError),
      );
    })();
    return this.disposed;
  }

  private async build(): Promise<BuildResult> {
    const version = ++this.version;
    const entry = this.options.entry;
    const started = performance.now();
    const seen = [...this.dirty].map((file) => ({ file, stamp: stamp(file) }));
    for (const { file, stamp: before } of seen) this.builtStamps.set(file, before);
    this.dirty.clear();
    let result: BuildResult;
    try {
      const made = await this.make(version, new Set(seen.map(({ file }) => file)));
      const durationMs = performance.now() - started;
      result = { ok: true, version, format: this.format, entry, durationMs, ...made };
    } catch (error) {
      const durationMs = performance.now() - started;
      result = { ok: false, version, entry, error: await formatBuildError(error), durationMs };
    }
    this.latest = result;
    this.updateWatched(result, result.ok ? [] : errorFiles(result.error, this.cwd));
    // A write seen mid-way (truncated, then filled) may have been built half-written while chokidar
    // drops the second event of the pair as a duplicate: build again when the file has moved on since.
    const moved = seen.filter(({ file, stamp: before }) => stamp(file) !== before).map(({ file }) => file);
    if (moved.length > 0 && !this.disposed) {
      for (const file of moved) this.dirty.add(file);
      void this.rebuild();
    }
    try {
      this.options.onBuild?.(result);
    } catch (callbackError) {
      console.error(`pulumi-live: onBuild of "${this.options.name}" failed:`, callbackError);
    }
    // Invocations waiting in ready() go on now, not after old versions are removed.
    this.publish?.();
    // Builds run one at a time, so prunes do too; awaiting it here lets dispose() wait for it.
    if (result.ok) await this.pruneVersions(version);
    return result;
  }

  /**
   * Version `version`'s file: in module mode, the changed files compiled alone against the known graph;
   * a bundle build when there is no graph yet or the changed files' imports (or the files) changed.
   */
  private async make(
    version: number,
    changed: Set<string>,
  ): Promise<{ file: string; inputs: string[]; compiled?: string[] }> {
    let compiled: string[] = [];
    if (this.modules && this.unbundled) {
      const update = await this.modules.update(changed, false);
      if (!update.refresh) {
        return {
          file: await this.modules.publish(version),
          inputs: this.graphInputs,
          compiled: update.compiled,
        };
      }
      compiled = update.compiled;
    }
    const output = await this.bundle();
    const inputs = this.sourceInputs(output.metafile);
    this.graphInputs = inputs;
    const graph = this.modules ? graphFromMetafile(output.metafile, this.cwd) : undefined;
    this.unbundled = graph !== undefined && "graph" in graph;
    if (this.modules && graph && "graph" in graph) {
      this.modules.setGraph(graph.graph);
      for (const file of compiled) changed.delete(file);
      const update = await this.modules.update(changed, true);
      compiled = [...new Set([...compiled, ...update.compiled])].filter((file) => graph.graph.has(file));
      return { file: await this.modules.publish(version), inputs, compiled };
    }
    const code = output.outputFiles.find((file) => /\.(c|m)js$/.test(file.path));
    if (!code) throw new Error(`esbuild produced no bundle for ${this.options.entry}`);
    const file = path.join(this.options.outDir, String(version), path.basename(code.path));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, code.contents);
    return { file, inputs };
  }

  /** The incremental bundle build, which also finds the graph of the handler's modules. */
  private async bundle(): Promise<esbuild.BuildResult<{ metafile: true; write: false }>> {
    if (!this.context) throw new Error(`FunctionBuilder "${this.options.name}" was not started`);
    let output = await this.context.rebuild();
    // Sources in folders not seen before (a workspace package's, now bundled) may see packages of
    // their own node_modules: a new context resolves those from there too.
    for (let round = 0; round < 3; round++) {
      const dirs = this.sourceInputs(output.metafile).map((input) => path.dirname(input));
      const names = localPackageNames(dirs, this.options.outDir, this.scanned);
      if ([...names].every((name) => this.localPackages.has(name))) break;
      this.localPackages = new Set([...this.localPackages, ...names]);
      await this.context.dispose();
      this.context = await this.createContext();
      output = await this.context.rebuild();
    }
    return output;
  }

  /** Absolute paths of the source files in a build (node_modules excluded). */
  private sourceInputs(metafile: esbuild.Metafile): string[] {
    return Object.keys(metafile.inputs)
      .filter((input) => !/^[a-z-]+:/i.test(input) || path.isAbsolute(input))
      .map((input) => path.resolve(this.cwd, input))
      .filter((input) => !input.split(path.sep).includes("node_modules"));
  }

  private changed(file: string): void {
    this.dirty.add(file);
    // rebuild() never rejects: failures become ok:false results.
    void this.rebuild();
  }

  /** Rebuilds if `file` differs, a little later, from what the last build read of it. */
  private lookAgain(file: string): void {
    clearTimeout(this.trailingChecks.get(file));
    const check = setTimeout(() => {
      this.trailingChecks.delete(file);
      if (!this.disposed && stamp(file) !== this.builtStamps.get(file)) this.changed(file);
    }, TRAILING_CHECK_MS);
    this.trailingChecks.set(file, check.unref());
  }

  private async startWatching(): Promise<void> {
    const watcher = watch([...this.watched], { ignoreInitial: true });
    this.watcher = watcher;
    const changed = (changedFile: string): void => {
      if (this.disposed) return;
      const file = path.resolve(this.cwd, changedFile);
      this.changed(file);
      // chokidar drops a file's further changes for 50 ms after one: look again once that is over.
      this.lookAgain(file);
    };
    watcher.on("change", changed).on("add", changed).on("unlink", changed);
    watcher.on("error", (watchError) =>
      console.error(`pulumi-live: watching "${this.options.name}" failed:`, watchError),
    );
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  }

  /** Follows the bundle's inputs; a broken build keeps watching what it had, plus the files it names. */
  private updateWatched(result: BuildResult, named: string[]): void {
    const next = result.ok ? new Set(result.inputs) : new Set([...this.watched, ...named, result.entry]);
    if (!this.options.watch) return;
    const added = [...next].filter((file) => !this.watched.has(file));
    const removed = [...this.watched].filter((file) => !next.has(file));
    this.watched = next;
    if (!this.watcher || this.disposed) return;
    if (added.length > 0) this.watcher.add(added);
    // chokidar sets up a watch asynchronously: an edit made meanwhile is caught by looking again.
    for (const file of added) {
      this.builtStamps.set(file, stamp(file));
      this.lookAgain(file);
    }
    if (removed.length > 0) this.watcher.unwatch(removed);
  }

  private async pruneVersions(newest: number): Promise<void> {
    try {
      const entries = await readdir(this.options.outDir);
      // `newest` is the good build invocations run from now on: never among the old.
      const old = entries.filter((name) => /^\d+$/.test(name) && Number(name) <= newest - KEPT_VERSIONS);
      await Promise.all(
        old.map((name) => rm(path.join(this.options.outDir, name), { recursive: true, force: true })),
      );
      await this.modules?.prune(newest - KEPT_VERSIONS);
    } catch (pruneError) {
      console.error(`pulumi-live: removing old builds of "${this.options.name}" failed:`, pruneError);
    }
  }
}
