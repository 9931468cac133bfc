/**
 * `serve --local` reading a Pulumi program: a TypeScript program in a temporary project (its config,
 * a secret, triggers, mocked outputs of other resources), and each bad input with its message.
 */
import test from "ava";
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { planFromProgram } from "../../cli/commands/local-program";
import { readProject } from "../../cli/program/project";
import { UserError } from "../../cli/user-error";
import { ECHO_HANDLER, pulumiProject } from "./pulumi-project";

const GATEWAY = "http://127.0.0.1:3999";

const PROGRAM = `import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LiveFunction } from "pulumi-live";

const config = new pulumi.Config();
const table = new aws.dynamodb.Table("orders", { hashKey: "id", attributes: [{ name: "id", type: "S" }] });
const queue = new aws.sqs.Queue("jobs", { visibilityTimeoutSeconds: 5 });
const api = new LiveFunction("api", {
  handler: "src/api.handler",
  timeout: 12,
  memorySize: 256,
  environment: {
    variables: {
      GREETING: config.require("greeting"),
      API_KEY: config.requireSecret("apiKey"),
      TABLE: table.name,
      QUEUE_URL: queue.url,
    },
  },
});
new aws.lambda.FunctionUrl("api-url", { functionName: api.name, authorizationType: "NONE" });
const http = new aws.apigatewayv2.Api("shop", { protocolType: "HTTP" });
const integration = new aws.apigatewayv2.Integration("shop-api", {
  apiId: http.id,
  integrationType: "AWS_PROXY",
  integrationUri: api.arn,
  payloadFormatVersion: "2.0",
});
new aws.apigatewayv2.Route("get-item", { apiId: http.id, routeKey: "GET /items/{id}", target: pulumi.interpolate\`integrations/\${integration.id}\` });
const worker = new LiveFunction("worker", { handler: "src/api.handler" });
new aws.lambda.EventSourceMapping("worker-jobs", { eventSourceArn: queue.arn, functionName: worker.arn, batchSize: 3 });
const bucket = new aws.s3.BucketV2("uploads");
new aws.s3.BucketNotification("uploads-notify", {
  bucket: bucket.id,
  lambdaFunctions: [{ lambdaFunctionArn: worker.arn, events: ["s3:ObjectCreated:*"] }],
});
export const url = http.apiEndpoint;
`;

test.serial(
  "a TypeScript program: functions with config, a secret placeholder, mocked names and local URLs, triggers",
  async (t) => {
    const project = await pulumiProject({
      "Pulumi.yaml": "name: shop\nruntime: nodejs\n",
      "Pulumi.dev.yaml":
        "config:\n  shop:greeting: hello\n  aws:region: eu-west-1\n  shop:apiKey:\n    secure: v1:abc:def\n",
      "index.ts": 'import "./infra";\n',
      "infra.ts": PROGRAM,
      "src/api.ts": ECHO_HANDLER,
    });
    t.teardown(() => project.remove());
    const plan = await planFromProgram({ cwd: project.root, gatewayUrl: GATEWAY, env: {} });
    t.is(plan.project.stack, "dev");
    t.is(plan.project.stackSource, "only");
    t.is(plan.region, "eu-west-1");
    t.deepEqual(plan.functions, [
      {
        name: "api",
        file: project.path("src/api.ts"),
        exportName: "handler",
        timeoutSeconds: 12,
        memoryMB: 256,
        environment: {
          GREETING: "hello",
          API_KEY: "[pulumi-live placeholder: secret shop:apiKey]",
          TABLE: "orders",
          QUEUE_URL: `${GATEWAY}/000000000000/jobs`,
        },
        httpSource: "function-url",
      },
      { name: "worker", file: project.path("src/api.ts"), exportName: "handler", environment: {} },
    ]);
    t.deepEqual(plan.app.apis, [
      {
        name: "shop",
        apiId: "shop",
        routes: [{ routeKey: "GET /items/{id}", functionName: "api", payloadFormat: "2.0" }],
      },
    ]);
    t.like(plan.app.mappings[0], {
      functionName: "worker",
      batchSize: 3,
      reportBatchItemFailures: false,
      queueArn: "arn:aws:sqs:eu-west-1:000000000000:jobs",
    });
    t.like(plan.app.queues[0], {
      name: "jobs",
      url: `${GATEWAY}/000000000000/jobs`,
      visibilityTimeoutSeconds: 5,
    });
    t.deepEqual(plan.notices, [
      "not emulated: uploads-notify (aws:s3/bucketNotification:BucketNotification); instead: pulumi-live invoke worker --local --event FILE with an S3 notification event",
      "api: API_KEY holds a placeholder for the secret shop:apiKey; set it with --env API_KEY=VALUE",
    ]);
    // With --env API_KEY=..., the placeholder is not reported.
    const overridden = await planFromProgram({
      cwd: project.root,
      gatewayUrl: GATEWAY,
      env: { API_KEY: "k" },
    });
    t.false(overridden.notices.some((n) => n.includes("API_KEY")));
  },
);

test.serial("a LiveFunction that says streaming: true is planned as streaming, the others not", async (t) => {
  const project = await pulumiProject({
    "Pulumi.yaml": "name: chat\nruntime: nodejs\n",
    "index.ts": `import * as aws from "@pulumi/aws";
import { LiveFunction } from "pulumi-live";
const chat = new LiveFunction("chat", { handler: "src/api.handler", streaming: true });
new aws.lambda.FunctionUrl("chat-url", { functionName: chat.name, authorizationType: "NONE", invokeMode: "RESPONSE_STREAM" });
new LiveFunction("plain", { handler: "src/api.handler" });
`,
    "src/api.ts": ECHO_HANDLER,
  });
  t.teardown(() => project.remove());
  const plan = await planFromProgram({ cwd: project.root, gatewayUrl: GATEWAY, env: {} });
  t.deepEqual(
    plan.functions.map((f) => ({ name: f.name, streaming: f.streaming, httpSource: f.httpSource })),
    [
      { name: "chat", streaming: true, httpSource: "function-url" },
      { name: "plain", streaming: undefined, httpSource: undefined },
    ],
  );
});

test("the stack: --stack, else the selected one (pulumi's workspace file), else the only one, else a message", async (t) => {
  const project = await pulumiProject({
    "Pulumi.yaml":
      "name: app\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nconfig:\n  region:\n    default: north\n",
    "Pulumi.dev.yaml": "config:\n  app:size: 1\n  app:nested:\n    list: [1, 2]\n",
    "Pulumi.prod.yaml": "config:\n  app:size: 3\n  app:region: south\n",
    "index.ts": "",
  });
  t.teardown(() => project.remove());
  const home = project.path("pulumi-home");
  t.throws(() => readProject(project.root, undefined, { PULUMI_HOME: home }), {
    instanceOf: UserError,
    message: /has several stacks \(dev, prod\) and none is selected: pass --stack NAME/,
  });
  const prod = readProject(project.root, "prod", { PULUMI_HOME: home });
  t.deepEqual(prod.config, { "app:region": "south", "app:size": "3" });
  t.is(prod.stackSource, "--stack");
  const hash = createHash("sha1").update(project.path("Pulumi.yaml")).digest("hex");
  await mkdir(path.join(home, "workspaces"), { recursive: true });
  await writeFile(
    path.join(home, "workspaces", `app-${hash}-workspace.json`),
    JSON.stringify({ stack: "acme/dev" }),
  );
  const selected = readProject(project.root, undefined, { PULUMI_HOME: home });
  t.is(selected.stack, "dev");
  t.is(selected.stackSource, "selected");
  t.deepEqual(selected.config, { "app:region": "north", "app:size": "1", "app:nested": '{"list":[1,2]}' });
});

async function failure(t: any, files: Record<string, string>, timeoutMs?: number): Promise<string> {
  const project = await pulumiProject({ "Pulumi.yaml": "name: bad\nruntime: nodejs\n", ...files });
  t.teardown(() => project.remove());
  const error = await t.throwsAsync(
    planFromProgram({ cwd: project.root, gatewayUrl: GATEWAY, env: {}, timeoutMs }),
    {
      instanceOf: UserError,
    },
  );
  t.regex(error.message, /--function name=path\/to\/file\.export/);
  return error.message.replaceAll(project.root + path.sep, "");
}

test.serial("a program that throws under mocks: the file and line, the error, what to do", async (t) => {
  const message = await failure(t, {
    "index.ts":
      'import * as pulumi from "@pulumi/pulumi";\nconst config = new pulumi.Config();\nconfig.require("missing");\n',
  });
  t.regex(
    message,
    /^The Pulumi program index\.ts failed at index\.ts:3:8:\n {2}Missing required configuration variable 'bad:missing'/,
  );
  t.regex(message, /Fix the program there/);
});

test.serial("a program that fails on a lookup local mode cannot answer is told which lookup", async (t) => {
  const message = await failure(t, {
    "index.ts": `import * as pulumi from "@pulumi/pulumi";
export = async () => {
  const vpc = await pulumi.runtime.invoke("aws:ec2/getVpc:getVpc", { default: true });
  return vpc.cidrBlock.split("/");
};
`,
  });
  t.regex(
    message,
    /^The Pulumi program index\.ts failed at index\.ts:4:\d+:\n {2}TypeError: Cannot read properties of undefined \(reading 'split'\)/,
  );
  t.regex(message, /\nLookups local mode cannot answer \(they returned nothing\): aws:ec2\/getVpc:getVpc\.$/);
});

test.serial("a rejected apply fails the run: the file and line of the throw", async (t) => {
  const message = await failure(t, {
    "index.ts":
      'import * as aws from "@pulumi/aws";\nconst queue = new aws.sqs.Queue("jobs");\nqueue.arn.apply(() => {\n  throw new Error("no such queue");\n});\n',
  });
  t.regex(message, /^The Pulumi program index\.ts failed at index\.ts:4:9:\n {2}no such queue\n/);
  t.regex(message, /Fix the program there/);
});

test.serial("a program that imports something missing: the importing file and line", async (t) => {
  const message = await failure(t, {
    "index.ts": 'import "./infra";\n',
    "infra.ts": '\nimport "no-such-package";\n',
  });
  t.regex(
    message,
    /^The Pulumi program index\.ts failed at infra\.ts:2:8:\n {2}Cannot find module 'no-such-package'\n/,
  );
  t.regex(message, /install the package \(npm install\) or fix the import path/);
});

test.serial("a TypeScript syntax error: the file, line and column", async (t) => {
  const message = await failure(t, { "index.ts": "const a = 1;\nconst = 2;\n" });
  t.regex(
    message,
    /^The Pulumi program index\.ts failed at index\.ts:2:7:\n {2}SyntaxError: Expected identifier but found "="\nFix the syntax there\./,
  );
});

test.serial("a program that declares no LiveFunction says so and names the way out", async (t) => {
  const message = await failure(t, {
    "index.ts":
      'import * as aws from "@pulumi/aws";\nnew aws.lambda.Function("plain", { role: "arn:aws:iam::1:role/r", runtime: "nodejs22.x", handler: "index.handler", code: new (require("@pulumi/pulumi").asset.AssetArchive)({}) });\n',
  });
  t.regex(
    message,
    /^The Pulumi program index\.ts declares no LiveFunction \(type pulumi-live:aws:Function\), so there is nothing to serve \(its aws\.lambda\.Function plain run deployed code\)\. Use LiveFunction/,
  );
});

test.serial(
  "a program that never finishes is stopped at the timeout; one that exits early is reported",
  async (t) => {
    const hangs = await failure(
      t,
      {
        "index.ts":
          "export = async () => { setInterval(() => undefined, 1000); await new Promise(() => undefined); };\n",
      },
      1500,
    );
    t.regex(
      hangs,
      /^The Pulumi program index\.ts did not finish within 2 s under mocks: it waits for something that never comes/,
    );
    const exits = await failure(t, { "index.ts": "process.exit(3);\n" });
    t.regex(exits, /^The Pulumi program index\.ts ended before it finished \(exit code 3\)/);
  },
);

test("a project whose main does not exist yet says to build it", async (t) => {
  const project = await pulumiProject({ "Pulumi.yaml": "name: p\nruntime: nodejs\nmain: dist/index.js\n" });
  t.teardown(() => project.remove());
  t.throws(() => readProject(project.root), {
    instanceOf: UserError,
    message:
      /The program dist\/index\.js named by Pulumi\.yaml \(main\) does not exist\. If it is compiled, build it first/,
  });
  t.throws(() => readProject(path.dirname(project.root)), { message: /is not inside a Pulumi project/ });
});
