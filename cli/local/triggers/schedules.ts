/**
 * The program's EventBridge schedules, run locally: each rule fires on its `rate(...)`/`cron(...)`
 * schedule with the event EventBridge sends a Lambda target
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html: "Scheduled
 * Event" from `aws.events`, the rule's ARN in `resources`, empty `detail`), or with the target's constant
 * `input` when it has one; and fires now on request. Lambda's retries of failed asynchronous
 * invocations are not emulated: a failure is reported.
 */
import { randomUUID } from "node:crypto";
import type { Invoker } from "../invoker";
import { nextFire, parseSchedule, type Schedule } from "./schedule-expression";

export interface LocalScheduleTarget {
  rule: string;
  ruleArn: string;
  expression: string;
  enabled: boolean;
  functionName: string;
  invoker: Invoker;
  input?: string;
}

export interface FireResult {
  functionName: string;
  requestId: string;
  ok: boolean;
  /** The handler's error, when it failed. */
  error?: string;
}

export interface SchedulesOptions {
  targets: LocalScheduleTarget[];
  region: string;
  account: string;
  /** Called after each firing, scheduled or asked for. */
  onFire?: (rule: string, results: FireResult[], scheduled: boolean) => void;
  /** @default Date.now */
  now?: () => number;
}

/** The scheduled event EventBridge sends for a rule at `time`. */
export function scheduledEvent(ruleArn: string, time: Date, region: string, account: string): object {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account,
    time: time.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region,
    resources: [ruleArn],
    detail: {},
  };
}

export class LocalSchedules {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly parsed = new Map<string, Schedule>();
  private readonly started: number;
  private closed = false;

  constructor(private readonly options: SchedulesOptions) {
    this.started = (options.now ?? Date.now)();
    for (const target of options.targets) this.parsed.set(target.rule, parseSchedule(target.expression));
  }

  /** Rule names, once each. */
  get rules(): string[] {
    return [...new Set(this.options.targets.map((t) => t.rule))];
  }

  /** When the rule fires next on its own; undefined when disabled or never. */
  next(rule: string): Date | undefined {
    const target = this.options.targets.find((t) => t.rule === rule && t.enabled);
    const schedule = this.parsed.get(rule);
    if (!target || !schedule) return undefined;
    const now = new Date((this.options.now ?? Date.now)());
    return nextFire(schedule, now, new Date(this.started));
  }

  /** Starts each enabled rule's timer. */
  start(): void {
    for (const rule of this.rules) this.arm(rule);
  }

  /** Fires every target of the rule now and waits for their answers; undefined for an unknown rule. */
  async fire(
    rule: string,
    time = new Date((this.options.now ?? Date.now)()),
  ): Promise<FireResult[] | undefined> {
    const targets = this.options.targets.filter((t) => t.rule === rule);
    if (targets.length === 0) return undefined;
    return Promise.all(
      targets.map(async (target): Promise<FireResult> => {
        const requestId = randomUUID();
        const event =
          target.input ??
          JSON.stringify(scheduledEvent(target.ruleArn, time, this.options.region, this.options.account));
        try {
          const result = await target.invoker.invoke(Buffer.from(event), { tail: false, requestId });
          if (!result.functionError) return { functionName: target.functionName, requestId, ok: true };
          const error = JSON.parse(result.payload.toString("utf8")) as {
            errorType?: string;
            errorMessage?: string;
          };
          return {
            functionName: target.functionName,
            requestId,
            ok: false,
            error: `${error.errorType}: ${error.errorMessage}`,
          };
        } catch (e) {
          return { functionName: target.functionName, requestId, ok: false, error: (e as Error).message };
        }
      }),
    );
  }

  /** Stops every timer. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    return Promise.resolve();
  }

  private arm(rule: string): void {
    const at = this.next(rule);
    if (!at || this.closed) return;
    const now = (this.options.now ?? Date.now)();
    // setTimeout holds at most 2^31-1 ms; a farther firing re-arms on the way.
    const wait = Math.min(at.getTime() - now, 2 ** 31 - 1);
    const timer = setTimeout(
      () => {
        if ((this.options.now ?? Date.now)() + 5 < at.getTime()) return this.arm(rule);
        void this.fire(rule, at).then(
          (results) => {
            if (results) this.options.onFire?.(rule, results, true);
            this.arm(rule);
          },
          () => this.arm(rule),
        );
      },
      Math.max(0, wait),
    );
    this.timers.set(rule, timer);
  }
}
