/**
 * Bounded waits for tests: every wait resolves on an event, never on a sleep, and gives up with a
 * message that says what was seen after a timeout, so a test that waits for something that never comes
 * fails instead of hanging until ava's own timeout.
 */

/** How long a wait lasts unless told otherwise (ms). */
export const DEFAULT_WAIT_MS = 10_000;

/**
 * Resolves with the first value `check` returns that is not `undefined`; `check` runs now and again on
 * every `recheck()` of the returned handle. Rejects with `describe()` after `timeoutMs`.
 */
export function within<T>(
  timeoutMs: number,
  describe: () => string,
  check: () => T | undefined,
): { promise: Promise<T>; recheck(): void } {
  let recheck = () => undefined as void;
  const promise = new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`${describe()} (after ${timeoutMs} ms)`));
    }, timeoutMs);
    recheck = () => {
      if (done) return;
      let value: T | undefined;
      try {
        value = check();
      } catch (error) {
        done = true;
        clearTimeout(timer);
        reject(error);
        return;
      }
      if (value === undefined) return;
      done = true;
      clearTimeout(timer);
      resolve(value);
    };
  });
  recheck();
  return { promise, recheck: () => recheck() };
}

/**
 * Something that changes as messages arrive: call `changed()` after each change; `until(done)` resolves
 * once `done()` holds (checked at once and after every change).
 */
export class Changes {
  private readonly waits = new Set<() => void>();

  changed(): void {
    for (const recheck of [...this.waits]) recheck();
  }

  until(done: () => boolean, describe: () => string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const wait = within(timeoutMs, describe, () => (done() ? true : undefined));
    this.waits.add(wait.recheck);
    return wait.promise.then(
      () => void this.waits.delete(wait.recheck),
      (error: Error) => {
        this.waits.delete(wait.recheck);
        throw error;
      },
    );
  }
}

/** Events kept in arrival order, with bounded waits for the next one that matches. */
export class EventLog<E> {
  readonly events: E[] = [];
  /** Indexes of events a `take` wait has had. */
  private readonly taken = new Set<number>();
  private readonly changes = new Changes();

  constructor(private readonly what = "event") {}

  push(event: E): void {
    this.events.push(event);
    this.changes.changed();
  }

  /**
   * The first event from now on that matches (`{ seen: true }`: the first one so far, or from now on).
   * With `take`, the event is this wait's alone: no later wait that takes finds it again (a reply
   * answers one request). A `match` that throws counts as no match: an event that cannot even be
   * checked is not the one.
   */
  next(
    match: (event: E) => boolean,
    options: { timeoutMs?: number; seen?: boolean; take?: boolean } = {},
  ): Promise<E> {
    let from = options.seen ? 0 : this.events.length;
    let found: E | undefined;
    const matches = (event: E) => {
      try {
        return match(event);
      } catch {
        return false;
      }
    };
    return this.changes
      .until(
        () => {
          for (; from < this.events.length && found === undefined; from++) {
            if (options.take && this.taken.has(from)) continue;
            if (!matches(this.events[from])) continue;
            found = this.events[from];
            if (options.take) this.taken.add(from);
          }
          return found !== undefined;
        },
        () => `no matching ${this.what} among ${this.events.length}`,
        options.timeoutMs,
      )
      .then(() => found as E);
  }
}
