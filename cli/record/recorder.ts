/** Writes invocation records and keeps only the newest N per function. */
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ServedInvocation } from "../served-invocation";
import {
  DEFAULT_KEEP,
  LOG_DIR,
  RECORD_VERSION,
  recordFileName,
  safeName,
  type InvocationRecord,
} from "./invocation-record";
import { redactEnvironment, redactEvent } from "./redact";

export interface RecorderOptions {
  /** The project root: records go to `<root>/.pulumi-live/log/<function>/`. */
  root: string;
  /** Records kept per function, newest first. @default 100 */
  keep?: number;
  /** A record could not be written (the invocation itself is unaffected). */
  onError?: (message: string) => void;
  /**
   * How long a record waits before it is written (ms): records of a busy function that `keep` newer
   * ones replace meanwhile are never written. @default 1000
   */
  delayMs?: number;
}

/**
 * A record is on disk within this long of its invocation. A function answering 600 times a second kept
 * only its newest 100 records yet wrote all 600 files a second (and removed 500): serve's CPU per
 * invocation fell from 2.71 to 2.52 and from 2.86 to 2.11 ms with records off (two alternated runs of 16
 * clients through the gateway). Waiting a second writes at most `keep` a second per function. `flush()`
 * (serve's exit) writes what waits at once.
 */
const DEFAULT_DELAY_MS = 1000;

/** The record of one served invocation: secrets redacted, paths relative to the project root. */
export function toRecord(root: string, served: ServedInvocation): InvocationRecord {
  const { environment, redacted } = redactEnvironment(served.environment);
  const { event, redacted: redactedEvent } = redactEvent(served.event);
  return {
    version: RECORD_VERSION,
    function: served.name,
    handler: {
      file: path.relative(root, served.entry).split(path.sep).join("/"),
      exportName: served.exportName,
    },
    requestId: served.requestId,
    envId: served.envId,
    event,
    context: served.context,
    deadline: served.deadline,
    environment,
    redacted,
    redactedEvent,
    logs: served.logs,
    outcome: served.outcome,
    coldStart: served.coldStart,
    timings: served.timings,
  };
}

/** The folder of a function's records. */
export function functionLogDir(root: string, name: string): string {
  return path.join(root, LOG_DIR, safeName(name));
}

/** What the recorder knows of one function's folder. */
interface Folder {
  /** Created (or found) by this recorder: made again only when a write finds it gone. */
  made: boolean;
  /** The record files in it, oldest first (names sort by time), as of the last listing plus what was written since. */
  names?: string[];
  /** Records written since the folder was last listed. */
  sinceListing: number;
}

/**
 * Records every invocation a session serves, each after a short wait (`delayMs`). Writes of one function
 * run one after another, so the bound is applied over complete files; `flush()` writes what waits and
 * waits for every write so far. Records waiting to be written are bounded too: only the newest `keep`
 * stay on disk, so older ones still waiting are dropped instead of being written and removed (a busy
 * function would otherwise queue them without end).
 *
 * A write is one file and, once the folder holds `keep`, the removal of its oldest: the folder is listed
 * once and then every `keep` records (to see files others added or removed), not on every record, and
 * made once. (Making, listing and sorting it on each record took about a tenth of serve's main thread
 * during sequential calls through the gateway, in its `--cpu-prof` profile.)
 */
export class InvocationRecorder {
  readonly root: string;
  readonly keep: number;
  /** Per folder, what waits to be written, oldest first. */
  private readonly pending = new Map<string, ServedInvocation[]>();
  /** Per folder, the loop writing its pending records, while it runs. */
  private readonly writers = new Map<string, Promise<void>>();
  private readonly folders = new Map<string, Folder>();
  private readonly delayMs: number;
  /** Ends the writers' waits: `flush()` writes at once. */
  private readonly hurry = new Set<() => void>();
  /** Flushes under way: writers do not wait while one is. */
  private flushing = 0;

  constructor(private readonly options: RecorderOptions) {
    this.root = path.resolve(options.root);
    this.keep = options.keep ?? DEFAULT_KEEP;
    if (!Number.isInteger(this.keep) || this.keep < 1) {
      throw new Error(`InvocationRecorder keep must be a positive integer, got ${this.keep}`);
    }
    this.delayMs = options.delayMs ?? DEFAULT_DELAY_MS;
  }

  /** Records queued and not yet written, across functions. */
  get waiting(): number {
    let count = 0;
    for (const queue of this.pending.values()) count += queue.length;
    return count;
  }

  /** Queues the record of one invocation; never throws. */
  record(served: ServedInvocation): void {
    const dir = functionLogDir(this.root, served.name);
    const queue = this.pending.get(dir) ?? [];
    this.pending.set(dir, queue);
    queue.push(served);
    if (queue.length > this.keep) queue.splice(0, queue.length - this.keep);
    if (!this.writers.has(dir)) this.writers.set(dir, this.writeAll(dir, queue));
  }

  /** Resolves when every record queued so far is written (and the folders bounded). */
  async flush(): Promise<void> {
    while (this.writers.size > 0) {
      this.flushing++;
      for (const wake of this.hurry) wake();
      try {
        await Promise.allSettled([...this.writers.values()]);
      } finally {
        this.flushing--;
      }
    }
  }

  /** Waits out the delay, or less when a flush comes. */
  private wait(): Promise<void> {
    if (this.flushing > 0 || this.delayMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.hurry.delete(done);
        resolve();
      };
      // Not keeping serve alive: its exit flushes.
      const timer = setTimeout(done, this.delayMs).unref();
      this.hurry.add(done);
    });
  }

  private async writeAll(dir: string, queue: ServedInvocation[]): Promise<void> {
    const folder = this.folders.get(dir) ?? { made: false, sinceListing: 0 };
    this.folders.set(dir, folder);
    try {
      while (queue.length > 0) {
        await this.wait();
        const batch = queue
          .splice(0, queue.length)
          .map((served) => ({ served, name: recordFileName(served) }));
        await this.writeBatch(dir, folder, batch).catch((error: Error) => {
          // The folder is listed again before the next write: what is on disk is not known now.
          folder.names = undefined;
          for (const { served } of batch) {
            this.options.onError?.(`could not record ${served.name} ${served.requestId}: ${error.message}`);
          }
        });
      }
    } finally {
      this.writers.delete(dir);
      this.pending.delete(dir);
    }
  }

  private async writeBatch(
    dir: string,
    folder: Folder,
    batch: { served: ServedInvocation; name: string }[],
  ): Promise<void> {
    if (!folder.made) {
      // Records hold events and outcomes, which may carry personal data: readable by their owner only.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      folder.made = true;
    }
    if (!folder.names || folder.sinceListing >= this.keep) {
      folder.names = (await readdir(dir)).filter((name) => name.endsWith(".json")).sort();
      folder.sinceListing = 0;
    }
    const names = folder.names;
    for (const { name } of batch) insertSorted(names, name);
    folder.sinceListing += batch.length;
    const old = new Set(names.splice(0, Math.max(0, names.length - this.keep)));
    // A record older than the newest `keep` on disk would be removed at once: it is not written.
    const writes = batch.filter(({ name }) => !old.delete(name));
    // One after another, each made just before its write: a second's worth made and written in one go
    // held serve's main thread for several milliseconds, which invocations felt (the Invoke API row's p99).
    for (const { served, name } of writes)
      await this.writeRecord(dir, folder, name, toRecord(this.root, served));
    await Promise.all([...old].map((name) => rm(path.join(dir, name), { force: true })));
  }

  private async writeRecord(
    dir: string,
    folder: Folder,
    name: string,
    record: InvocationRecord,
  ): Promise<void> {
    const file = path.join(dir, name);
    const text = JSON.stringify(record, null, 2) + "\n";
    try {
      await writeFile(file, text, { mode: 0o600 });
    } catch (error) {
      // The folder was removed while serving (the user cleared the records): made again, written again.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      folder.names = undefined;
      await writeFile(file, text, { mode: 0o600 });
    }
  }
}

/** Inserts `name` where it sorts (names arrive almost in order: searched from the end). */
function insertSorted(names: string[], name: string): void {
  let at = names.length;
  while (at > 0 && names[at - 1] > name) at--;
  if (names[at - 1] !== name) names.splice(at, 0, name);
}
