/**
 * The triggers a program declares, running locally: one queue per SQS queue (speaking the SQS API on the
 * gateway), one poller per event source mapping, the EventBridge schedules with their timers, and the
 * control route that fires a schedule now. One `close()` for all of them.
 */
import type { ServerResponse } from "node:http";
import type { LocalApp } from "../program/local-app";
import type { ControlHandler, LocalAwsService } from "./gateway";
import { CONTROL_PREFIX } from "./gateway";
import { sendJson } from "./http-io";
import type { Invoker } from "./invoker";
import { LocalSchedules, type FireResult } from "./triggers/schedules";
import { sqsService } from "./triggers/sqs-api";
import { SqsPoller, type BatchOutcome } from "./triggers/sqs-poller";
import { LocalQueue } from "./triggers/sqs-queue";

export interface LocalTriggersOptions {
  app: Pick<LocalApp, "queues" | "mappings" | "schedules">;
  invokers: Map<string, Invoker>;
  region: string;
  account: string;
  onBatch?: (outcome: BatchOutcome) => void;
  onFire?: (rule: string, results: FireResult[], scheduled: boolean) => void;
}

export interface LocalTriggers {
  queues: Map<string, LocalQueue>;
  schedules: LocalSchedules;
  services: LocalAwsService[];
  control: ControlHandler;
  close(): Promise<void>;
}

/** The path of the control request that fires a rule now. */
export function firePath(rule: string): string {
  return `${CONTROL_PREFIX}schedules/${encodeURIComponent(rule)}/fire`;
}

export function startLocalTriggers(options: LocalTriggersOptions): LocalTriggers {
  const { app, invokers, region, account } = options;
  const queues = new Map<string, LocalQueue>();
  // Dead-letter queues first, so a queue can point at its own.
  const ordered = [...app.queues].sort(
    (a, b) => Number(a.deadLetter !== undefined) - Number(b.deadLetter !== undefined),
  );
  for (const queue of ordered) {
    const deadLetter = queue.deadLetter && [...queues.values()].find((q) => q.arn === queue.deadLetter!.arn);
    queues.set(
      queue.name,
      new LocalQueue({
        name: queue.name,
        arn: queue.arn,
        url: queue.url,
        fifo: queue.fifo,
        visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
        delaySeconds: queue.delaySeconds,
        ...(deadLetter
          ? { deadLetter: { queue: deadLetter, maxReceiveCount: queue.deadLetter!.maxReceiveCount } }
          : {}),
      }),
    );
  }
  const pollers: SqsPoller[] = [];
  for (const mapping of app.mappings) {
    const queue = [...queues.values()].find((q) => q.arn === mapping.queueArn);
    const invoker = invokers.get(mapping.functionName);
    if (!queue || !invoker || !mapping.enabled) continue;
    pollers.push(
      new SqsPoller({
        queue,
        functionName: mapping.functionName,
        invoker,
        batchSize: mapping.batchSize,
        reportBatchItemFailures: mapping.reportBatchItemFailures,
        region,
        onBatch: options.onBatch,
      }),
    );
  }
  const schedules = new LocalSchedules({
    targets: app.schedules.flatMap((s) => {
      const invoker = invokers.get(s.functionName);
      return invoker ? [{ ...s, invoker }] : [];
    }),
    region,
    account,
    onFire: options.onFire,
  });

  const control: ControlHandler = async (method: string, path: string, res: ServerResponse) => {
    const fire = /^\/_pulumi-live\/schedules\/([^/]+)\/fire$/.exec(path);
    if (fire && method === "POST") {
      const rule = decodeURIComponent(fire[1]);
      const results = await schedules.fire(rule);
      if (!results) {
        const message = `No schedule named "${rule}". Schedules: ${schedules.rules.join(", ") || "(none)"}.`;
        sendJson(res, 404, { message, schedules: schedules.rules });
        return { name: rule, status: 404, error: message };
      }
      options.onFire?.(rule, results, false);
      sendJson(res, 200, { rule, results });
      return { name: rule, status: 200 };
    }
    if (path === `${CONTROL_PREFIX}schedules` && method === "GET") {
      sendJson(res, 200, {
        schedules: schedules.rules.map((rule) => ({ rule, next: schedules.next(rule)?.toISOString() })),
      });
      return { name: "", status: 200 };
    }
    sendJson(res, 404, { message: `Unknown control request ${method} ${path}.` });
    return { name: "", status: 404 };
  };

  schedules.start();
  for (const poller of pollers) poller.start();
  let closing: Promise<void> | undefined;
  return {
    queues,
    schedules,
    services: [sqsService(queues)],
    control,
    close: () =>
      (closing ??= (async () => {
        await schedules.close();
        await Promise.allSettled(pollers.map((p) => p.close()));
      })()),
  };
}
