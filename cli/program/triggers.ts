/**
 * The triggers a program attaches to its LiveFunctions, read from the resources it registered: function
 * URLs, API Gateway HTTP APIs (quick-create targets, or integrations and routes), EventBridge rules with
 * a schedule and a target, SQS queues and their event source mappings. Whatever else refers to a
 * LiveFunction is listed as not emulated, with what to use instead. Pure.
 */
import type { HttpApiRouteTarget } from "../local/triggers/http-api-routes";
import type { RecordedResource } from "./host-messages";
import type { LocalApp, NotEmulated, ProgramFunction, ProgramQueue } from "./local-app";
import { textValue } from "./text-value";

type Triggers = Omit<LocalApp, "functions" | "problems">;

/** Types that change nothing about how a function is invoked. */
const INERT = [/^aws:iam\//, /^aws:lambda\/permission:/, /^pulumi:/, /^aws:cloudwatch\/logGroup:/];

/** What to use instead, for triggers of kinds local mode does not run. */
const INSTEAD: Array<[RegExp, string]> = [
  [/^aws:apigateway\//, "a REST API's event: serve with --http-source NAME=rest-api and call /NAME/..."],
  [/^aws:lb\//, "an ALB's event: serve with --http-source NAME=alb (or alb-multi) and call /NAME/..."],
  [/^aws:scheduler\//, "pulumi-live invoke NAME --local --event FILE with the schedule's input"],
  [/^aws:s3\//, "pulumi-live invoke NAME --local --event FILE with an S3 notification event"],
  [/^aws:sns\//, "pulumi-live invoke NAME --local --event FILE with an SNS event"],
];

const str = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);

export function triggersOf(
  resources: RecordedResource[],
  refs: Map<string, string>,
  functions: ProgramFunction[],
): Triggers {
  const notEmulated: NotEmulated[] = [];
  const handled = new Set<RecordedResource>();
  const target = (value: unknown): string | undefined => {
    const text = str(value);
    if (!text) return undefined;
    return refs.get(text) ?? refs.get(text.replace(/:[^:]+$/, "")); // a qualified ARN
  };
  const ofType = (type: string) => resources.filter((r) => r.type === type);

  for (const url of ofType("aws:lambda/functionUrl:FunctionUrl")) {
    const fn = functions.find((f) => f.name === target(url.inputs.functionName));
    if (!fn) continue;
    handled.add(url);
    fn.functionUrl = { resource: url.name, authType: str(url.inputs.authorizationType) ?? "NONE" };
  }

  const apis: Triggers["apis"] = [];
  const integrations = new Map<string, { fn: string; format: "1.0" | "2.0" }>();
  for (const integration of ofType("aws:apigatewayv2/integration:Integration")) {
    const fn = target(integration.inputs.integrationUri);
    if (!fn) continue;
    handled.add(integration);
    // The AWS provider's default payloadFormatVersion is "1.0".
    const format = integration.inputs.payloadFormatVersion === "2.0" ? "2.0" : "1.0";
    integrations.set(textValue(integration.state.id ?? integration.name), { fn, format });
  }
  for (const api of ofType("aws:apigatewayv2/api:Api")) {
    const apiId = textValue(api.state.id ?? api.state.name ?? api.name);
    if (api.inputs.protocolType === "WEBSOCKET") {
      notEmulated.push({
        resource: api.name,
        type: api.type,
        instead: "pulumi-live invoke NAME --local --event FILE with a WebSocket event",
      });
      handled.add(api);
      continue;
    }
    const routes: HttpApiRouteTarget[] = [];
    const quick = target(api.inputs.target);
    if (quick)
      routes.push({
        routeKey: str(api.inputs.routeKey) ?? "$default",
        functionName: quick,
        payloadFormat: "2.0",
      });
    for (const route of ofType("aws:apigatewayv2/route:Route").filter((r) => r.inputs.apiId === apiId)) {
      const integration = integrations.get(textValue(route.inputs.target).replace(/^integrations\//, ""));
      if (!integration) continue;
      handled.add(route);
      routes.push({
        routeKey: String(route.inputs.routeKey),
        functionName: integration.fn,
        payloadFormat: integration.format,
      });
    }
    if (routes.length === 0) continue;
    handled.add(api);
    apis.push({ name: api.name, apiId, routes });
  }

  const schedules: Triggers["schedules"] = [];
  for (const eventTarget of ofType("aws:cloudwatch/eventTarget:EventTarget")) {
    const fn = target(eventTarget.inputs.arn);
    if (!fn) continue;
    const rule = ofType("aws:cloudwatch/eventRule:EventRule").find(
      (r) => r.state.name === eventTarget.inputs.rule || r.state.arn === eventTarget.inputs.rule,
    );
    const expression = str(rule?.inputs.scheduleExpression);
    if (!rule || !expression || eventTarget.inputs.inputTransformer || eventTarget.inputs.inputPath) {
      const why = expression ? "an input transformer or input path" : "an event pattern";
      notEmulated.push({
        resource: eventTarget.name,
        type: eventTarget.type,
        instead: `(${why}) pulumi-live invoke ${fn} --local --event FILE`,
      });
      handled.add(eventTarget);
      continue;
    }
    handled.add(eventTarget).add(rule);
    const state = str(rule.inputs.state);
    schedules.push({
      rule: rule.name,
      ruleArn: String(rule.state.arn),
      expression,
      enabled: state ? state === "ENABLED" : rule.inputs.isEnabled !== false,
      functionName: fn,
      ...(str(eventTarget.inputs.input) ? { input: str(eventTarget.inputs.input) } : {}),
    });
  }

  const queues: ProgramQueue[] = ofType("aws:sqs/queue:Queue").map((queue) => {
    handled.add(queue);
    const redrive = parseJson(queue.inputs.redrivePolicy) as
      { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
    return {
      name: String(queue.state.name),
      resource: queue.name,
      arn: String(queue.state.arn),
      url: String(queue.state.url),
      fifo: queue.inputs.fifoQueue === true,
      visibilityTimeoutSeconds:
        typeof queue.inputs.visibilityTimeoutSeconds === "number"
          ? queue.inputs.visibilityTimeoutSeconds
          : 30,
      delaySeconds: typeof queue.inputs.delaySeconds === "number" ? queue.inputs.delaySeconds : 0,
      ...(redrive && typeof redrive.deadLetterTargetArn === "string"
        ? {
            deadLetter: {
              arn: redrive.deadLetterTargetArn,
              maxReceiveCount: Number(redrive.maxReceiveCount ?? 1),
            },
          }
        : {}),
    };
  });

  const mappings: Triggers["mappings"] = [];
  for (const mapping of ofType("aws:lambda/eventSourceMapping:EventSourceMapping")) {
    const fn = target(mapping.inputs.functionName);
    if (!fn) continue;
    handled.add(mapping);
    const source = textValue(mapping.inputs.eventSourceArn);
    if (!queues.some((q) => q.arn === source)) {
      notEmulated.push({
        resource: mapping.name,
        type: mapping.type,
        instead: `pulumi-live invoke ${fn} --local --event FILE with a record of ${source.split(":")[2] ?? "its source"}`,
      });
      continue;
    }
    const types = Array.isArray(mapping.inputs.functionResponseTypes)
      ? mapping.inputs.functionResponseTypes
      : [];
    mappings.push({
      resource: mapping.name,
      queueArn: source,
      functionName: fn,
      batchSize: typeof mapping.inputs.batchSize === "number" ? mapping.inputs.batchSize : 10,
      reportBatchItemFailures: types.includes("ReportBatchItemFailures"),
      enabled: mapping.inputs.enabled !== false,
      maximumBatchingWindowSeconds: Number(mapping.inputs.maximumBatchingWindowInSeconds ?? 0),
    });
  }

  // Anything else that names a LiveFunction: the program expects it to invoke or configure the function.
  for (const resource of resources) {
    if (handled.has(resource) || !resource.custom || INERT.some((p) => p.test(resource.type))) continue;
    const names = [
      ...new Set(
        valuesOf(resource.inputs)
          .map(target)
          .filter((n): n is string => n !== undefined),
      ),
    ];
    if (names.length === 0) continue;
    const instead =
      INSTEAD.find(([p]) => p.test(resource.type))?.[1] ?? "pulumi-live invoke NAME --local --event FILE";
    notEmulated.push({
      resource: resource.name,
      type: resource.type,
      instead: instead.replaceAll("NAME", names[0]),
    });
  }
  return { apis, schedules, queues, mappings, notEmulated };
}

function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Every string inside a value. */
function valuesOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(valuesOf);
  if (value && typeof value === "object") return Object.values(value).flatMap(valuesOf);
  return [];
}
