import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { LiveFunction } from "../../sdk";

/** The demo's stack outputs. */
export interface DemoOutputs {
  apiUrl: pulumi.Output<string>;
  queueUrl: pulumi.Output<string>;
  functions: Record<"api" | "worker" | "cron", LiveFunction>;
}

/**
 * Three functions with three kinds of trigger; the same handlers `npm start` serves locally. Each trigger
 * attaches to the real `aws.lambda.Function` (`name`, `arn`), exactly as it would without pulumi-live.
 */
export function demoProgram(): DemoOutputs {
  // HTTP: a public function URL.
  const api = new LiveFunction("api", { handler: "examples/handlers/api.handler", timeout: 10 });
  const url = new aws.lambda.FunctionUrl("api-url", { functionName: api.name, authorizationType: "NONE" });
  new aws.lambda.Permission("api-url-invoke", {
    function: api.name,
    action: "lambda:InvokeFunctionUrl",
    principal: "*",
    functionUrlAuthType: "NONE",
  });
  new aws.lambda.Permission("api-url-invoke-function", {
    function: api.name,
    action: "lambda:InvokeFunction",
    principal: "*",
    invokedViaFunctionUrl: true,
  });

  // SQS consumer with partial batch responses.
  const queue = new aws.sqs.Queue("jobs", { visibilityTimeoutSeconds: 60 });
  const worker = new LiveFunction("worker", { handler: "examples/handlers/worker.handler", timeout: 30 });
  const sqsAccess = new aws.iam.RolePolicyAttachment("worker-sqs", {
    role: worker.nodes.role!.name,
    policyArn: aws.iam.ManagedPolicy.AWSLambdaSQSQueueExecutionRole,
  });
  new aws.lambda.EventSourceMapping(
    "worker-jobs",
    {
      eventSourceArn: queue.arn,
      functionName: worker.name,
      batchSize: 10,
      functionResponseTypes: ["ReportBatchItemFailures"],
    },
    { dependsOn: [sqsAccess] },
  );

  // Scheduled EventBridge rule.
  const cron = new LiveFunction("cron", { handler: "examples/handlers/cron.handler" });
  const schedule = new aws.cloudwatch.EventRule("cron-schedule", { scheduleExpression: "rate(5 minutes)" });
  new aws.cloudwatch.EventTarget("cron-target", { rule: schedule.name, arn: cron.arn });
  new aws.lambda.Permission("cron-invoke", {
    function: cron.name,
    action: "lambda:InvokeFunction",
    principal: "events.amazonaws.com",
    sourceArn: schedule.arn,
  });

  return { apiUrl: url.functionUrl, queueUrl: queue.url, functions: { api, worker, cron } };
}
