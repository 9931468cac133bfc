/**
 * The closing steps of a server, run in reverse order of their start. A step that fails is reported
 * with what it was closing and does not stop the others: a teardown failure is a bug to see, not to
 * swallow, and it must not leave the rest running.
 */
export class Teardown {
  private readonly steps: { what: string; close: () => Promise<unknown> }[] = [];
  private running?: Promise<void>;

  /** Adds a step; `what` names the part for the report, e.g. "the gateway". */
  add(what: string, close: () => Promise<unknown>): void {
    this.steps.push({ what, close });
  }

  /** Runs every step, last added first; idempotent (a second call waits for the first). */
  run(report: (what: string, error: unknown) => void): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.close();
        } catch (error) {
          try {
            report(step.what, error);
          } catch {
            // a failing report must not stop the remaining steps
          }
        }
      }
    })();
    return this.running;
  }
}

/** The report of a failed step, for the reporter's error event. */
export function teardownMessage(what: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return `closing ${what} failed: ${reason}`;
}
