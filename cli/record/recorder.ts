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
}

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

/**
 * Records every invocation a session serves. Writes of one function run one after another, so the
 * bound is applied over complete files; `flush()` waits for every write so far. Records waiting to be
 * written are bounded too: only the newest `keep` stay on disk, so older ones still waiting are dropped
 * instead of being written and removed (a busy function would otherwise queue them without end).
 */
export class InvocationRecorder {
  readonly root: string;
  readonly keep: number;
  /** Per folder, what waits to be written, oldest first. */
  private readonly pending = new Map<string, ServedInvocation[]>();
  /** Per folder, the loop writing its pending records, while it runs. */
  private readonly writers = new Map<string, Promise<void>>();

  constructor(private readonly options: RecorderOptions) {
    this.root = path.resolve(options.root);
    this.keep = options.keep ?? DEFAULT_KEEP;
    if (!Number.isInteger(this.keep) || this.keep < 1) {
      throw new Error(`InvocationRecorder keep must be a positive integer, got ${this.keep}`);
    }
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
    while (this.writers.size > 0) await Promise.allSettled([...this.writers.values()]);
  }

  private async writeAll(dir: string, queue: ServedInvocation[]): Promise<void> {
    try {
      for (let served = queue.shift(); served; served = queue.shift()) {
        await this.write(dir, toRecord(this.root, served)).catch((error: Error) =>
          this.options.onError?.(`could not record ${served.name} ${served.requestId}: ${error.message}`),
        );
      }
    } finally {
      this.writers.delete(dir);
      this.pending.delete(dir);
    }
  }

  private async write(dir: string, record: InvocationRecord): Promise<void> {
    // Records hold events and outcomes, which may carry personal data: readable by their owner only.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dir, recordFileName(record)), JSON.stringify(record, null, 2) + "\n", {
      mode: 0o600,
    });
    const files = (await readdir(dir)).filter((name) => name.endsWith(".json")).sort();
    const old = files.slice(0, Math.max(0, files.length - this.keep));
    await Promise.all(old.map((name) => rm(path.join(dir, name), { force: true })));
  }
}
