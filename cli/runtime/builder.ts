import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { moduleFormat } from "../../core/handler";
import { errorFiles, formatBuildError } from "./build-messages";
import { stamp } from "./file-stamp";
import { graphFromMetafile } from "./module-graph";
import { BundleContext } from "./bundle-context";
import { ModuleVersions } from "./module-versions";
import { SourceWatcher } from "./source-watcher";

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
  private context?: BundleContext;
  /** The source files' watcher, when watching. */
  private readonly sources?: SourceWatcher;
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
  /** Module mode's versions (CommonJS only), and whether the current graph can load unbundled. */
  private readonly modules?: ModuleVersions;
  private unbundled = false;
  /** The source files of the last bundle build: a module-mode build keeps its graph, so these too. */
  private graphInputs: string[] = [];

  constructor(options: FunctionBuilderOptions) {
    this.options = options;
    this.cwd = options.cwd ?? process.cwd();
    this.format = moduleFormat(options.entry);
    if (options.watch) {
      this.sources = new SourceWatcher({
        name: options.name,
        cwd: this.cwd,
        onChange: (file) => this.changed(file),
      });
    }
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
    const { entry, outDir } = this.options;
    this.context = new BundleContext({ entry, format: this.format, outDir, cwd: this.cwd });
    const first = await this.rebuild();
    await this.sources?.start();
    return first;
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
    return this.disposed ? [] : (this.sources?.files() ?? []);
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
      const closing = this.sources?.close();
      await Promise.allSettled([this.running, this.queued]);
      await Promise.allSettled([closing, this.context?.dispose()]);
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
    for (const { file, stamp: before } of seen) this.sources?.built(file, before);
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
    if (!this.context) throw new Error(`FunctionBuilder "${this.options.name}" was not started`);
    const output = await this.context.rebuild();
    const inputs = this.context.sourceInputs(output.metafile);
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

  private changed(file: string): void {
    if (this.disposed) return;
    this.dirty.add(file);
    // rebuild() never rejects: failures become ok:false results.
    void this.rebuild();
  }

  /** Follows the build's inputs; a broken build keeps watching what it had, plus the files it names. */
  private updateWatched(result: BuildResult, named: string[]): void {
    if (!this.sources) return;
    const watched = this.sources.following();
    this.sources.follow(result.ok ? new Set(result.inputs) : new Set([...watched, ...named, result.entry]));
  }

  private async pruneVersions(newest: number): Promise<void> {
    try {
      const entries = await readdir(this.options.outDir);
      // `newest` is the good build invocations run from now on: never among the old.
      const old = entries.filter((name) => /^\d+$/.test(name) && Number(name) <= newest - KEPT_VERSIONS);
      await Promise.all(
        old.map((name) => rm(path.join(this.options.outDir, name), { recursive: true, force: true })),
      );
    } catch (pruneError) {
      console.error(`pulumi-live: removing old builds of "${this.options.name}" failed:`, pruneError);
    }
  }
}
