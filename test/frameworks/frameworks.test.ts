/**
 * Real frameworks' handlers (Express through serverless-http, Hono, Fastify through @fastify/aws-lambda,
 * Middy, Powertools Logger) run through `serve --local` — gateway, the deployed stub bundle in a local
 * Lambda-like process, MQTT, the session, a worker — and every answer is compared with the same handler's
 * deployed bundle called in this process the way Lambda calls it: the result (status, headers, cookies,
 * body bytes, binary included), errors, and the log lines.
 */
import { symlink } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import { startLocalServer, type LocalServer } from "../../cli/commands/serve-local";
import { RecordingReporter } from "../helpers/recorder";
import { tempProject, type TempProject } from "../runtime/temp-project";
import { APPS, CASES, httpEvent } from "./apps";
import { callAsLambda, lambdaContext, loadDeployed, logLines, type Answer } from "./reference";

let project: TempProject;
let server: LocalServer;

test.before(async () => {
  project = await tempProject({
    "Pulumi.yaml": "name: frameworks\nruntime: nodejs\n",
    ...Object.fromEntries(Object.entries(APPS).map(([name, source]) => [`src/${name}.ts`, source])),
  });
  await symlink(path.resolve("node_modules"), project.path("node_modules"), "dir");
  server = await startLocalServer({
    functions: Object.keys(APPS).map((name) => `${name}=src/${name}.handler`),
    cwd: project.root,
    port: 0,
    watch: false,
    record: false,
    reporter: new RecordingReporter(),
  });
});
test.after.always(async () => {
  await server?.close();
  await project?.remove();
});

/** Invokes through the local gateway's Lambda Invoke API, with the log tail. */
async function invokeLocal(fn: string, event: unknown): Promise<Answer> {
  const response = await fetch(`${server.gateway}/2015-03-31/functions/${fn}/invocations`, {
    method: "POST",
    headers: { "x-amz-log-type": "Tail" },
    body: JSON.stringify(event),
  });
  const payload = JSON.parse(await response.text()) as unknown;
  const tail = Buffer.from(response.headers.get("x-amz-log-result") ?? "", "base64").toString("utf8");
  const body = tail.slice(
    tail.indexOf("\n", tail.indexOf("START RequestId:")) + 1,
    tail.indexOf("END RequestId:"),
  );
  const logs = logLines(body).filter((line) => !line.startsWith("[pulumi-live]"));
  return response.headers.get("x-amz-function-error")
    ? { error: payload as Answer["error"], logs }
    : { result: payload, logs };
}

const references = new Map<string, Awaited<ReturnType<typeof loadDeployed>>>();
let calls = 0;

/** The same event through the deployed bundle, called in this process as Lambda calls it. */
async function invokeReference(fn: string, event: unknown): Promise<Answer> {
  let handler = references.get(fn);
  if (!handler) {
    // What Lambda sets and libraries read at load (Powertools' function name, region, memory).
    Object.assign(process.env, {
      AWS_LAMBDA_FUNCTION_NAME: fn,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      AWS_REGION: "us-east-1",
    });
    handler = await loadDeployed(project.root, fn);
    references.set(fn, handler);
  }
  process.env.AWS_LAMBDA_FUNCTION_NAME = fn;
  return callAsLambda(handler, event, lambdaContext(fn, `reference-${++calls}`));
}

/** Headers that differ between any two responses (the time), set to one value on both sides. */
function stable(result: unknown): unknown {
  if (!result || typeof result !== "object") return result;
  const copy = { ...(result as Record<string, unknown>) };
  const headers = copy.headers as Record<string, string> | undefined;
  if (headers?.date) copy.headers = { ...headers, date: "(now)" };
  return copy;
}

for (const { fn, name, event } of CASES) {
  test.serial(`${fn}: ${name}`, async (t) => {
    const local = await invokeLocal(fn, event);
    const reference = await invokeReference(fn, event);
    // Stack frames name the .ts sources in a worker (source maps) and the bundle here: compare the rest.
    const frameless = (lines: string[]) => lines.filter((line) => !/^\s+at /.test(line));
    if (reference.error) {
      t.truthy(local.error, `expected ${reference.error.errorType}, got ${JSON.stringify(local.result)}`);
      t.is(local.error?.errorType, reference.error.errorType);
      t.is(local.error?.errorMessage, reference.error.errorMessage);
      t.is(local.error?.trace[0], reference.error.trace[0]);
    } else {
      t.deepEqual(stable(local.result), stable(reference.result), JSON.stringify(local.error));
    }
    t.deepEqual(frameless(local.logs), frameless(reference.logs));
  });
}

for (const fn of ["express", "hono", "fastify"]) {
  test.serial(
    `${fn}: over plain HTTP, binary bytes and cookies arrive as the handler answered`,
    async (t) => {
      const binary = await fetch(`${server.gateway}/${fn}/binary`);
      const expected = (await invokeReference(fn, httpEvent("GET", "/binary"))).result as { body: string };
      t.is(binary.status, 200);
      t.is(binary.headers.get("content-type"), "image/png");
      t.deepEqual(Buffer.from(await binary.arrayBuffer()), Buffer.from(expected.body, "base64"));

      const hello = await fetch(`${server.gateway}/${fn}/hello/Ada?x=1&y=two`);
      const answered = (await invokeReference(fn, httpEvent("GET", "/hello/Ada", { query: "x=1&y=two" })))
        .result as { statusCode: number; body: string; cookies?: string[]; headers: Record<string, string> };
      t.is(hello.status, answered.statusCode);
      t.deepEqual(hello.headers.getSetCookie(), answered.cookies ?? [answered.headers["set-cookie"]].flat());
      t.is(hello.headers.get("x-custom"), "yes");
      t.is(await hello.text(), answered.body);
    },
  );
}
