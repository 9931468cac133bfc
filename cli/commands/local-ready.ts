import path from "node:path";
import type { HttpSource } from "../local/events/http-sources";
import type { LocalTriggers } from "../local/local-triggers";
import type { LocalApp } from "../program/local-app";
import type { ReadyFunction, ReadyTrigger } from "../reporter";
import type { PlannedFunction } from "./local-program";

/** Each function of the ready output, with its triggers and how to call each. */
export function readyFunctions(
  functions: PlannedFunction[],
  context: {
    cwd: string;
    gatewayUrl: string;
    httpSources: Map<string, HttpSource>;
    defaultHttpSource: HttpSource;
    app?: LocalApp;
    triggers: LocalTriggers;
  },
): ReadyFunction[] {
  const { gatewayUrl, app, triggers } = context;
  return functions.map((fn) => {
    const url = `${gatewayUrl}/${encodeURIComponent(fn.name)}/`;
    const list: ReadyTrigger[] = [];
    const source = context.httpSources.get(fn.name);
    if (source) list.push({ kind: "http", source, url });
    for (const api of app?.apis ?? []) {
      for (const route of api.routes.filter((r) => r.functionName === fn.name)) {
        const routePath = route.routeKey === "$default" ? "/" : route.routeKey.replace(/^[A-Z]+ /, "");
        list.push({
          kind: "http-api",
          api: api.name,
          route: route.routeKey,
          url: `${gatewayUrl}/${encodeURIComponent(api.name)}${routePath}`,
        });
      }
    }
    for (const mapping of app?.mappings.filter((m) => m.functionName === fn.name) ?? []) {
      const queue = [...triggers.queues.values()].find((q) => q.arn === mapping.queueArn);
      if (!queue) continue;
      list.push({
        kind: "sqs",
        queue: queue.name,
        queueUrl: queue.url,
        batchSize: mapping.batchSize,
        reportBatchItemFailures: mapping.reportBatchItemFailures,
        ...(mapping.enabled ? {} : { enabled: false }),
      });
    }
    for (const schedule of app?.schedules.filter((s) => s.functionName === fn.name) ?? []) {
      const next = triggers.schedules.next(schedule.rule);
      list.push({
        kind: "schedule",
        rule: schedule.rule,
        expression: schedule.expression,
        ...(next ? { next: next.toISOString() } : {}),
        fire: `pulumi-live fire ${schedule.rule}${gatewayUrl === "http://127.0.0.1:3000" ? "" : ` --endpoint ${gatewayUrl}`}`,
      });
    }
    return {
      name: fn.name,
      handler: `${path.relative(context.cwd, fn.file).replace(/\.([cm]?[jt]s|py)$/, "")}.${fn.exportName}`,
      url,
      httpSource: source ?? context.defaultHttpSource,
      ...(list.length > 0 ? { triggers: list } : {}),
    };
  });
}
