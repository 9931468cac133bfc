/**
 * Watches a function's source files (the inputs of its latest good build) with chokidar and says when
 * one changed, including the changes chokidar's own throttling may hide.
 */
import path from "node:path";
import { watch, type FSWatcher } from "chokidar";
import { stamp } from "./file-stamp";

/** After a change event, when to look for a later change chokidar's 50 ms throttle may have hidden. */
const TRAILING_CHECK_MS = 60;

export interface SourceWatcherOptions {
  /** The function's name, for messages. */
  name: string;
  /** chokidar's paths are resolved from here. */
  cwd: string;
  /** A watched file changed (or appeared, or went): rebuild. */
  onChange(file: string): void;
}

export class SourceWatcher {
  private watcher?: FSWatcher;
  private watched = new Set<string>();
  /** What each file looked like when a build last read it. */
  private readonly builtStamps = new Map<string, string>();
  private readonly trailingChecks = new Map<string, NodeJS.Timeout>();
  private closed?: Promise<void>;

  constructor(private readonly options: SourceWatcherOptions) {}

  /** The files being watched (none once closed). */
  files(): string[] {
    return this.watcher && !this.closed ? [...this.watched].sort() : [];
  }

  /** Starts chokidar on the files followed so far; resolves once it is ready. */
  async start(): Promise<void> {
    const watcher = watch([...this.watched], { ignoreInitial: true });
    this.watcher = watcher;
    const changed = (changedFile: string): void => {
      if (this.closed) return;
      const file = path.resolve(this.options.cwd, changedFile);
      this.options.onChange(file);
      // chokidar drops a file's further changes for 50 ms after one: look again once that is over.
      this.lookAgain(file);
    };
    watcher.on("change", changed).on("add", changed).on("unlink", changed);
    watcher.on("error", (watchError) =>
      console.error(`pulumi-live: watching "${this.options.name}" failed:`, watchError),
    );
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  }

  /** Watches exactly `next` from now on. */
  follow(next: Set<string>): void {
    const added = [...next].filter((file) => !this.watched.has(file));
    const removed = [...this.watched].filter((file) => !next.has(file));
    this.watched = next;
    if (!this.watcher || this.closed) return;
    if (added.length > 0) this.watcher.add(added);
    // chokidar sets up a watch asynchronously: an edit made meanwhile is caught by looking again.
    for (const file of added) {
      this.builtStamps.set(file, stamp(file));
      this.lookAgain(file);
    }
    if (removed.length > 0) this.watcher.unwatch(removed);
  }

  /** The files followed now (also before start). */
  following(): ReadonlySet<string> {
    return this.watched;
  }

  /** A build read `file` as `seen` (its stamp). */
  built(file: string, seen: string): void {
    this.builtStamps.set(file, seen);
  }

  /** Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      for (const check of this.trailingChecks.values()) clearTimeout(check);
      await this.watcher?.close();
    })();
    return this.closed;
  }

  /** Reports `file` changed if it differs, a little later, from what the last build read of it. */
  private lookAgain(file: string): void {
    clearTimeout(this.trailingChecks.get(file));
    const check = setTimeout(() => {
      this.trailingChecks.delete(file);
      if (!this.closed && stamp(file) !== this.builtStamps.get(file)) this.options.onChange(file);
    }, TRAILING_CHECK_MS);
    this.trailingChecks.set(file, check.unref());
  }
}
