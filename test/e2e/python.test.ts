/**
 * The whole loop for a Python handler, next to a Node.js one: the Lambda Invoke API and an HTTP request
 * of the local gateway, the deployed stub bundle in a Lambda-like process, the embedded MQTT broker, the
 * session, and the handler in a Python process; then an edit.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import test from "ava";
import { runReplayCommand } from "../../cli/commands/replay";
import { startLocalServer, type LocalServer } from "../../cli/commands/serve-local";
import { RecordingReporter } from "../helpers/recorder";
import { python, pythonSkip } from "../helpers/python";

const FILES: Record<string, string> = {
  "src/app.py": `import logging
import os

logging.getLogger().setLevel(logging.INFO)


def handler(event, context):
    logging.info("order %s", event.get("order"))
    return {
        "order": event.get("order"),
        "requestId": context.aws_request_id,
        "functionName": context.function_name,
        "remainingPositive": context.get_remaining_time_in_millis() > 0,
        "env": {name: os.environ.get(name) for name in ["PULUMI_LIVE", "IS_LOCAL", "CUSTOM_SETTING", "PULUMI_LIVE_KEY"]},
    }
`,
  "src/fail.py": `def check(order):
    if not order.get("ok"):
        raise KeyError("order is not ok")


def handler(event, context):
    check(event)
    return "fine"
`,
  "src/http.py": `import json


def handler(event, context):
    return {"statusCode": 202, "headers": {"x-lang": "python"}, "body": json.dumps({"path": event["rawPath"]})}
`,
  "src/edit.py": `def handler(event, context):
    return "version 1"
`,
  "src/node.ts": `export const handler = async () => "from node";\n`,
};

if (pythonSkip) {
  test.skip(`Python end-to-end loop (${pythonSkip})`, () => undefined);
} else {
  let dir: string;
  let server: LocalServer;
  let lambda: LambdaClient;
  const reporter = new RecordingReporter();

  test.before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-e2e-python-"));
    for (const [name, text] of Object.entries(FILES)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), text);
    }
    server = await startLocalServer({
      functions: [
        "app=src/app.handler",
        "fail=src/fail.handler",
        "http=src/http.handler",
        "edit=src/edit.handler",
        "node=src/node.handler",
      ],
      cwd: dir,
      port: 0,
      timeoutSeconds: 20,
      env: ["CUSTOM_SETTING=from-the-function"],
      python,
      reporter,
    });
    lambda = new LambdaClient({
      endpoint: server.gateway,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
  });

  test.after.always(async () => {
    lambda?.destroy();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function invoke(name: string, payload: unknown) {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: name,
        Payload: Buffer.from(JSON.stringify(payload)),
        LogType: "Tail",
      }),
    );
    const text = Buffer.from(out.Payload ?? []).toString();
    const log = Buffer.from(out.LogResult ?? "", "base64").toString();
    return { out, log, json: text ? JSON.parse(text) : undefined };
  }

  test.serial(
    "a Python handler answers through the stub and the broker, with its context and environment",
    async (t) => {
      const { out, json, log } = await invoke("app", { order: 7 });
      t.is(out.FunctionError, undefined);
      t.like(json, {
        order: 7,
        functionName: "app",
        remainingPositive: true,
        env: {
          PULUMI_LIVE: "true",
          IS_LOCAL: "true",
          CUSTOM_SETTING: "from-the-function",
          PULUMI_LIVE_KEY: null,
        },
      });
      // The logging line carries the remote request id, and reaches the caller's log tail.
      t.regex(log, new RegExp(`\\[INFO\\]\\t\\S+Z\\t${json.requestId}\\torder 7`));
      t.like(await invoke("node", {}), { json: "from node" });
    },
  );

  test.serial(
    "a Python exception is rethrown with its class name, message and the .py file and line",
    async (t) => {
      const { out, json } = await invoke("fail", { ok: false });
      t.is(out.FunctionError, "Unhandled");
      t.is(json.errorType, "KeyError");
      t.is(json.errorMessage, "'order is not ok'");
      t.true(
        json.trace.includes(`  File "${path.join(dir, "src/fail.py")}", line 3, in check`),
        json.trace.join("\n"),
      );
    },
  );

  test.serial("an HTTP request becomes an API Gateway event and the Python result maps back", async (t) => {
    const response = await fetch(`${server.gateway}/http/orders/1`);
    t.is(response.status, 202);
    t.is(response.headers.get("x-lang"), "python");
    t.deepEqual(await response.json(), { path: "/orders/1" });
  });

  test.serial("a saved .py file is served on the next invocation", async (t) => {
    t.is((await invoke("edit", {})).json, "version 1");
    const built = reporter.next((e) => e.type === "build" && e.name === "edit" && e.ok && !e.first);
    await writeFile(path.join(dir, "src/edit.py"), `def handler(event, context):\n    return "version 2"\n`);
    await built;
    t.is((await invoke("edit", {})).json, "version 2");
  });

  test.serial("a served Python invocation is recorded, and replays against the current source", async (t) => {
    const { json } = await invoke("app", { order: 9 });
    // The record is written after the answer is sent; closing waits for it (the last test of the file).
    await server.close();
    const out: string[] = [];
    const io = {
      stdout: (text: string) => void out.push(text),
      stderr: () => undefined,
      cwd: dir,
      env: process.env,
    };
    const code = await runReplayCommand([json.requestId, "--json"], io, {
      credentials: async () => undefined,
    });
    t.is(code, 0, out.join(""));
    t.like(JSON.parse(out.join("")), {
      function: "app",
      requestId: json.requestId,
      replayed: { ok: true, result: { order: 9, requestId: json.requestId, functionName: "app" } },
    });
  });
}
