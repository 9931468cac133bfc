/**
 * The "build" of a Python function: nothing to compile, but the same contract as `FunctionBuilder` for the
 * session and the worker pool. Each version is a launch manifest in its own file, and the version moves
 * on whenever a `.py` file of the function's code folder changes, so the pool starts fresh processes for
 * the next invocations while those under way finish on the code they imported.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { watch, type FSWatcher } from "chokidar";
import {
  isIgnoredPythonEntry,
  isPythonFile,
  PYTHON_IGNORED_NAMES,
  pythonCodeRoot,
  pythonLambdaHandler,
} from "../../../core/python";
import type { BuildResult, GoodBuild } from "../builder";
import type { PythonLaunch } from "./python-process";

/** A good build of a Python function: what its processes start with. */
export type PythonBuild = GoodBuild & {
  python: PythonLaunch;
  /** The file whose change made this version (none for the first, or a rebuild asked for). */
  trigger?: string;
};

/** Whether a build runs in a Python process rather than a worker thread. */
export function isPythonBuild(build: GoodBuild): build is PythonBuild {
  return "python" in build;
}

export interface PythonBuilderOptions {
  /** The function's name, for messages. */
  name: string;
  /** Absolute path of the handler's `.py` file. */
  entry: string;
  exportName: string;
  /** Where the versions' manifests are written; owned by this builder (emptied and removed by it). */
  outDir: string;
  /** Move to a new version when a `.py` file of the code folder changes. */
  watch: boolean;
  /** How the processes start, but for the code folder and handler (from `entry`). */
  launch: Omit<PythonLaunch, "codeRoot" | "handler">;
  onBuild?: (result: BuildResult) => void;
}

/** After a change event, when to look again for a change chokidar's 50 ms throttle may have hidden. */
const TRAILING_CHECK_MS = 60;

/** Manifests kept on disk, as `FunctionBuilder` keeps bundles. */
const KEPT_VERSIONS = 3;

export class PythonBuilder {
  private readonly options: PythonBuilderOptions;
  private readonly codeRoot: string;
  private readonly launch: PythonLaunch;
  private watcher?: FSWatcher;
  private version = 0;
  private latest?: BuildResult;
  private disposed?: Promise<void>;
  /** Size and mtime of each changed file when the version last moved for it. */
  private readonly stamps = new Map<string, string>();
  private readonly trailingChecks = new Map<string, NodeJS.Timeout>();

  constructor(options: PythonBuilderOptions) {
    this.options = options;
    this.codeRoot = pythonCodeRoot(options.entry);
    this.launch = {
      ...options.launch,
      codeRoot: this.codeRoot,
      handler: pythonLambdaHandler(options.entry, options.exportName),
    };
  }

  /** Writes the first version and, when watching, starts watching the code folder. */
  async start(): Promise<BuildResult> {
    if (this.latest) throw new Error(`PythonBuilder "${this.options.name}" was already started`);
    rmSync(this.options.outDir, { recursive: true, force: true });
    if (this.options.watch) await this.startWatching();
    return this.build();
  }

  /** Moves to a new version now. */
  rebuild(): Promise<BuildResult> {
    return Promise.resolve(this.build());
  }

  /** The latest version. */
  current(): BuildResult | undefined {
    return this.latest;
  }

  /** The version to run: a change seen before this call is always in it. */
  ready(): Promise<BuildResult> {
    if (!this.latest)
      return Promise.reject(new Error(`PythonBuilder "${this.options.name}" was not started`));
    return Promise.resolve(this.latest);
  }

  /** The `.py` files being watched (none when not watching or disposed). */
  watchedFiles(): string[] {
    if (!this.watcher || this.disposed) return [];
    const files: string[] = [];
    for (const [dir, names] of Object.entries(this.watcher.getWatched())) {
      for (const name of names) if (isPythonFile(name)) files.push(path.join(dir, name));
    }
    return files.sort();
  }

  /** Stops watching and removes the manifests. Idempotent. */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      for (const check of this.trailingChecks.values()) clearTimeout(check);
      await this.watcher?.close().catch((error: unknown) => {
        console.error(`pulumi-live: closing the watcher of "${this.options.name}" failed:`, error);
      });
      await rm(this.options.outDir, { recursive: true, force: true }).catch((error: unknown) =>
        console.error(`pulumi-live: removing the builds of "${this.options.name}" failed:`, error),
      );
    })();
    return this.disposed;
  }

  private build(trigger?: string): BuildResult {
    const started = performance.now();
    const version = ++this.version;
    const entry = this.options.entry;
    let result: BuildResult;
    try {
      const file = path.join(this.options.outDir, String(version), "launch.json");
      mkdirSync(path.dirname(file), { recursive: true });
      const { onDebugger: _callback, ...manifest } = this.launch;
      writeFileSync(file, JSON.stringify({ ...manifest, version }, null, 2) + "\n");
      const durationMs = performance.now() - started;
      const build: PythonBuild = {
        ok: true,
        version,
        file,
        // Unused for Python: the bundle formats are Node's.
        format: "cjs",
        entry,
        durationMs,
        inputs: this.watchedFiles(),
        python: this.launch,
        ...(trigger ? { trigger } : {}),
      };
      result = build;
      this.prune(version);
    } catch (error) {
      const durationMs = performance.now() - started;
      result = { ok: false, version, entry, error: (error as Error).message, durationMs };
    }
    this.latest = result;
    try {
      this.options.onBuild?.(result);
    } catch (callbackError) {
      console.error(`pulumi-live: onBuild of "${this.options.name}" failed:`, callbackError);
    }
    return result;
  }

  private changed(file: string): void {
    if (this.disposed) return;
    this.stamps.set(file, stamp(file));
    this.build(file);
    // chokidar drops a file's further changes for 50 ms after one: look again once that is over.
    clearTimeout(this.trailingChecks.get(file));
    const check = setTimeout(() => {
      this.trailingChecks.delete(file);
      if (!this.disposed && stamp(file) !== this.stamps.get(file)) this.changed(file);
    }, TRAILING_CHECK_MS);
    this.trailingChecks.set(file, check.unref());
  }

  private async startWatching(): Promise<void> {
    const root = this.codeRoot;
    const watcher = watch(root, {
      ignoreInitial: true,
      ignored: (entry, stats) => {
        if (entry === root) return false;
        if (PYTHON_IGNORED_NAMES.has(path.basename(entry))) return true;
        if (stats?.isFile()) return !isPythonFile(entry);
        return stats?.isDirectory() ? isIgnoredPythonEntry(entry, true) : false;
      },
    });
    this.watcher = watcher;
    const changed = (file: string) => {
      if (isPythonFile(file)) this.changed(path.resolve(root, file));
    };
    watcher.on("change", changed).on("add", changed).on("unlink", changed);
    watcher.on("error", (error) =>
      console.error(`pulumi-live: watching "${this.options.name}" failed:`, error),
    );
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  }

  private prune(newest: number): void {
    try {
      for (const name of readdirSync(this.options.outDir)) {
        if (/^\d+$/.test(name) && Number(name) <= newest - KEPT_VERSIONS) {
          rmSync(path.join(this.options.outDir, name), { recursive: true, force: true });
        }
      }
    } catch (error) {
      console.error(`pulumi-live: removing old builds of "${this.options.name}" failed:`, error);
    }
  }
}

/** Size and modification time, to tell whether a file changed; "" when it is gone. */
function stamp(file: string): string {
  const stats = statSync(file, { throwIfNoEntry: false });
  return stats ? `${stats.size}:${stats.mtimeMs}` : "";
}
