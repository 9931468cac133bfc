/**
 * Lambda's Python runtime semantics, one by one, through the worker pool and real Python processes
 * (the machine's python3): context, environment, errors as Lambda's runtime reports them, the import
 * errors, marshalling, deadline, memory size, print and logging lines, exits, concurrency.
 */
import { mkdir } from "node:fs/promises";
import test from "ava";
import { PythonBuilder, type PythonBuild } from "../../cli/runtime/python/python-builder";
import { WorkerPool, type InvokeRequest, type LogEvent } from "../../cli/runtime/worker-pool";
import { localEnvironment } from "../../core/local-environment";
import { python, pythonSkip } from "../helpers/python";
import { tempProject, type TempProject } from "./temp-project";

const HANDLERS = `import decimal
import json
import logging
import os
import sys
import time

logger = logging.getLogger()


def echo(event, context):
    return {"echo": event, "pid": os.getpid()}


def context_of(event, context):
    identity = context.identity
    client = context.client_context
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": [identity.cognito_identity_id, identity.cognito_identity_pool_id],
        "client_context": None if client is None else {
            "custom": client.custom,
            "env": client.env,
            "installation_id": client.client.installation_id,
        },
        "remaining": context.get_remaining_time_in_millis(),
        "cwd": os.getcwd(),
        "path0": sys.path[0],
    }


def environment(event, context):
    return dict(os.environ)


def validate(order):
    if order.get("qty", 0) < 1:
        raise ValueError("qty must be at least 1, got %s" % order.get("qty"))


class OrderRejected(Exception):
    pass


def raises(event, context):
    validate(event)
    return "valid"


def custom_error(event, context):
    raise OrderRejected("order 7 is rejected")


def not_json(event, context):
    return {"tags": {"a", "b"}}


def not_a_number(event, context):
    return float("nan")


def decimals(event, context):
    return {"price": decimal.Decimal("12.50"), "count": decimal.Decimal(3), "none": None}


def json_bytes(event, context):
    return b'{"raw": true}'


def loop(event, context):
    while True:
        pass


def hog(event, context):
    blocks = []
    while True:
        blocks.append(bytearray(16 * 1024 * 1024))
        time.sleep(0.01)


def exits(event, context):
    sys.exit(3)


def logs(event, context):
    print("print", event["id"])
    print("to stderr", file=sys.stderr)
    logger.info("hidden: the root logger's level is WARNING, as in Lambda")
    logger.warning("warning %s", event["id"])
    sys.stdout.write("no newline")
    return event["id"]


def verbose(event, context):
    logger.setLevel(logging.INFO)
    logger.info("info %s", event["id"])
    return None


def barrier(event, context):
    marker = os.path.join(event["dir"], context.aws_request_id)
    open(marker, "w").close()
    seen = len(os.listdir(event["dir"]))
    deadline = time.time() + 10
    while len(os.listdir(event["dir"])) < event["wait_for"] and time.time() < deadline:
        time.sleep(0.01)
    return {"pid": os.getpid(), "seen_at_start": seen, "met": len(os.listdir(event["dir"])) >= event["wait_for"]}
`;

const FILES: Record<string, string> = {
  "src/handlers.py": HANDLERS,
  "src/missing_dep.py": "import not_installed_anywhere\n\ndef handler(event, context):\n    return 1\n",
  "src/broken.py": "def handler(event, context):\n    return (\n",
  "src/init_raises.py":
    "class ConfigError(Exception):\n    pass\n\nraise ConfigError('TABLE_NAME is not set')\n\n" +
    "def handler(event, context):\n    return 1\n",
};

let project: TempProject;
let pool: WorkerPool;
const logLines: LogEvent[] = [];
const builders: PythonBuilder[] = [];
const builds = new Map<string, PythonBuild>();

async function build(module: string, exportName: string): Promise<PythonBuild> {
  const key = `${module}.${exportName}`;
  const known = builds.get(key);
  if (known) return known;
  const builder = new PythonBuilder({
    name: key,
    entry: project.path(`src/${module}.py`),
    exportName,
    outDir: project.path(`.pulumi-live/build/${key}`),
    watch: false,
    launch: { interpreter: python!, runtime: "python3.12" },
  });
  builders.push(builder);
  const result = await builder.start();
  if (!result.ok) throw new Error(result.error);
  builds.set(key, result as PythonBuild);
  return result as PythonBuild;
}

let counter = 0;
async function request(exportName: string, more: Partial<InvokeRequest> = {}, module = "handlers") {
  const requestId = `req-${++counter}`;
  const req: InvokeRequest = {
    functionName: "py",
    envId: `env-${counter}`,
    build: await build(module, exportName),
    exportName,
    event: {},
    context: {
      awsRequestId: requestId,
      functionName: "py-fn",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:py-fn",
      memoryLimitInMB: "256",
      logGroupName: "/aws/lambda/py-fn",
      logStreamName: "2026/01/01/[$LATEST]abc",
    },
    deadline: Date.now() + 15_000,
    environment: localEnvironment(
      { PATH: process.env.PATH },
      {
        TABLE: "orders",
        AWS_ACCESS_KEY_ID: "ASIAROLE",
        AWS_SECRET_ACCESS_KEY: "role-secret",
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      },
    ),
    ...more,
  };
  return req;
}

if (pythonSkip) {
  test.skip(`Python runtime semantics (${pythonSkip})`, () => undefined);
} else {
  test.before(async () => {
    project = await tempProject(FILES);
    pool = new WorkerPool({ concurrency: 4, onLog: (line) => logLines.push(line) });
  });
  test.after.always(async () => {
    await pool?.close();
    await Promise.allSettled(builders.map((b) => b.dispose()));
    await project?.remove();
  });

  test.serial("a result; the environment's process stays warm for the next invocation", async (t) => {
    const first = await request("echo", { event: { a: 1 } });
    const cold = await pool.invoke(first);
    t.like(cold, { ok: true, coldStart: true, logs: "" });
    const warm = await pool.invoke({ ...(await request("echo", { event: { a: 2 } })), envId: first.envId });
    t.like(warm, { ok: true, coldStart: false });
    const [a, b] = [cold, warm].map((o) => (o.ok ? (o.result as { echo: unknown; pid: number }) : undefined));
    t.deepEqual([a?.echo, b?.echo], [{ a: 1 }, { a: 2 }]);
    t.is(a?.pid, b?.pid);
  });

  test.serial("context is complete: identity and client context when given, None when not", async (t) => {
    const base = await request("context_of");
    const req = {
      ...base,
      context: {
        ...base.context,
        identity: { cognitoIdentityId: "id-1", cognitoIdentityPoolId: "pool-1" },
        clientContext: { client: { installation_id: "inst-1" }, custom: { k: "v" }, env: { a: "b" } },
      },
    };
    const before = req.deadline - Date.now();
    const outcome = await pool.invoke(req);
    if (!outcome.ok) return t.fail(JSON.stringify(outcome.error));
    const { remaining, ...rest } = outcome.result as { remaining: number };
    t.deepEqual(rest, {
      aws_request_id: req.context.awsRequestId,
      function_name: "py-fn",
      function_version: "$LATEST",
      memory_limit_in_mb: "256",
      invoked_function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:py-fn",
      log_group_name: "/aws/lambda/py-fn",
      log_stream_name: "2026/01/01/[$LATEST]abc",
      identity: ["id-1", "pool-1"],
      client_context: { custom: { k: "v" }, env: { a: "b" }, installation_id: "inst-1" },
      // The handler's folder is the working folder and the first sys.path entry, as /var/task in Lambda.
      cwd: project.path("src"),
      path0: project.path("src"),
    });
    t.true(remaining > 0 && remaining <= before, `remaining ${remaining} of ${before}`);
    const plain = await pool.invoke(await request("context_of"));
    t.like(plain, { ok: true, result: { identity: [null, null], client_context: null } });
  });

  test.serial("the process sees the function's environment and credentials", async (t) => {
    const req = await request("environment");
    const outcome = await pool.invoke(req);
    if (!outcome.ok) return t.fail(JSON.stringify(outcome.error));
    // CPython itself sets LC_CTYPE when the locale is plain C (PEP 538's locale coercion).
    const { LC_CTYPE: _coerced, ...seen } = outcome.result as Record<string, string>;
    t.deepEqual(seen, {
      ...req.environment,
      // As Lambda's Python runtime sets them, whatever the (Node.js stub's) remote environment said.
      AWS_EXECUTION_ENV: "AWS_Lambda_python3.12",
      LAMBDA_TASK_ROOT: project.path("src"),
      _HANDLER: "handlers.environment",
    });
  });

  test.serial("a raised exception: its class name, message and the user's file and lines", async (t) => {
    const outcome = await pool.invoke(await request("raises", { event: { qty: 0 } }));
    if (outcome.ok) return t.fail("expected an error");
    const file = project.path("src/handlers.py");
    const line = (text: string) => HANDLERS.split("\n").findIndex((l) => l.includes(text)) + 1;
    t.deepEqual(outcome.error, {
      errorType: "ValueError",
      errorMessage: "qty must be at least 1, got 0",
      trace: [
        "ValueError: qty must be at least 1, got 0",
        `  File "${file}", line ${line("    validate(event)")}, in raises`,
        "    validate(event)",
        `  File "${file}", line ${line('raise ValueError("qty')}, in validate`,
        '    raise ValueError("qty must be at least 1, got %s" % order.get("qty"))',
      ],
    });
    t.like(await pool.invoke(await request("custom_error")), {
      ok: false,
      error: { errorType: "OrderRejected", errorMessage: "order 7 is rejected" },
    });
  });

  test.serial("Runtime.ImportModuleError, UserCodeSyntaxError and HandlerNotFound", async (t) => {
    t.like(await pool.invoke(await request("handler", {}, "missing_dep")), {
      ok: false,
      error: {
        errorType: "Runtime.ImportModuleError",
        errorMessage: "Unable to import module 'missing_dep': No module named 'not_installed_anywhere'",
      },
    });
    const syntax = await pool.invoke(await request("handler", {}, "broken"));
    if (syntax.ok) return t.fail("expected an error");
    t.is(syntax.error.errorType, "Runtime.UserCodeSyntaxError");
    t.regex(syntax.error.errorMessage, /^Syntax error in module 'broken': .*\(broken\.py, line 2\)$/);
    t.is(syntax.error.trace[1], `  File "${project.path("src/broken.py")}" Line 2`);
    t.like(await pool.invoke(await request("nope")), {
      ok: false,
      error: {
        errorType: "Runtime.HandlerNotFound",
        errorMessage: "Handler 'nope' missing on module 'handlers'",
      },
    });
  });

  test.serial(
    "an exception while importing fails each invocation, each time in a fresh process",
    async (t) => {
      const first = await request("handler", {}, "init_raises");
      const outcomes = [await pool.invoke(first), await pool.invoke({ ...first, envId: first.envId })];
      for (const outcome of outcomes) {
        if (outcome.ok) return t.fail("expected an error");
        t.like(outcome, {
          coldStart: true,
          error: { errorType: "ConfigError", errorMessage: "TABLE_NAME is not set" },
        });
        t.true(
          outcome.error.trace.includes(`  File "${project.path("src/init_raises.py")}", line 4, in <module>`),
        );
      }
    },
  );

  test.serial(
    "results are JSON: Runtime.MarshalError otherwise; Decimal, None and JSON bytes marshal",
    async (t) => {
      t.like(await pool.invoke(await request("not_json")), {
        ok: false,
        error: {
          errorType: "Runtime.MarshalError",
          errorMessage: "Unable to marshal response: Object of type set is not JSON serializable",
        },
      });
      t.like(await pool.invoke(await request("not_a_number")), {
        ok: false,
        error: { errorType: "Runtime.MarshalError" },
      });
      t.like(await pool.invoke(await request("decimals")), {
        ok: true,
        result: { price: 12.5, count: 3, none: null },
      });
      t.like(await pool.invoke(await request("json_bytes")), { ok: true, result: { raw: true } });
    },
  );

  test.serial("the deadline: Sandbox.Timedout, and a fresh process next time", async (t) => {
    const req = await request("loop", { deadline: Date.now() + 700 });
    const outcome = await pool.invoke(req);
    t.like(outcome, { ok: false, error: { errorType: "Sandbox.Timedout" } });
    if (!outcome.ok)
      t.regex(outcome.error.errorMessage, /^RequestId: req-\d+ Error: Task timed out after 0\.\d\d seconds$/);
    const next = await pool.invoke({ ...(await request("echo")), envId: req.envId });
    t.like(next, { ok: true, coldStart: true });
  });

  test.serial("sys.exit: Runtime.ExitError with the exit status", async (t) => {
    const req = await request("exits");
    t.like(await pool.invoke(req), {
      ok: false,
      error: {
        errorType: "Runtime.ExitError",
        errorMessage: `RequestId: ${req.context.awsRequestId} Error: Runtime exited with error: exit status 3`,
      },
    });
  });

  const linux = process.platform === "linux";
  (linux ? test.serial : test.skip)(
    `the memory size: Runtime.OutOfMemory past it, and a fresh process next time${linux ? "" : " (SKIPPED: needs Linux /proc)"}`,
    async (t) => {
      const base = await request("hog");
      const req = { ...base, context: { ...base.context, memoryLimitInMB: "128" } };
      t.like(await pool.invoke(req), {
        ok: false,
        error: {
          errorType: "Runtime.OutOfMemory",
          errorMessage: `RequestId: ${req.context.awsRequestId} Error: Runtime exited with error: signal: killed`,
        },
      });
      t.like(await pool.invoke({ ...(await request("echo")), envId: req.envId }), {
        ok: true,
        coldStart: true,
      });
    },
  );

  test.serial("print and logging lines reach the log in order, logging's with the request id", async (t) => {
    logLines.length = 0;
    const req = await request("logs", { event: { id: "x7" } });
    const outcome = await pool.invoke(req);
    t.like(outcome, { ok: true, result: "x7" });
    const id = req.context.awsRequestId;
    const lines = logLines.map((e) => ({ requestId: e.requestId, stream: e.stream, line: e.line }));
    t.is(lines.length, 4);
    t.deepEqual(lines[0], { requestId: id, stream: "stdout", line: "print x7" });
    t.deepEqual(lines[1], { requestId: id, stream: "stderr", line: "to stderr" });
    t.regex(
      lines[2].line,
      new RegExp(
        `^\\[WARNING\\]\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${id}\\twarning x7$`,
      ),
    );
    t.deepEqual(lines[3], { requestId: id, stream: "stdout", line: "no newline" });
    t.is(outcome.logs, `print x7\nto stderr\n${lines[2].line}\nno newline\n`);

    logLines.length = 0;
    const verbose = await request("verbose", { event: { id: "v1" } });
    await pool.invoke(verbose);
    t.regex(
      logLines[0]?.line ?? "",
      new RegExp(`^\\[INFO\\]\\t\\S+Z\\t${verbose.context.awsRequestId}\\tinfo v1$`),
    );
  });

  test.serial("concurrent environments run in processes of their own, at most the pool's cap", async (t) => {
    const capped = new WorkerPool({ concurrency: 2 });
    try {
      await mkdir(project.path("barrier"));
      // Each waits (10 s at most) until two have arrived: the first two meet only if they run at the same
      // time. The third waits for a process (the cap is 2) and finds all three markers when it starts.
      const event = { dir: project.path("barrier"), wait_for: 2 };
      const reqs = await Promise.all([1, 2, 3].map(() => request("barrier", { event })));
      const outcomes = await Promise.all(reqs.map((req) => capped.invoke(req)));
      type Met = { pid: number; seen_at_start: number; met: boolean };
      const results = outcomes.map((o) => (o.ok ? (o.result as Met) : o));
      const [a, b, c] = results as Met[];
      t.deepEqual([a.met, b.met, c.met, c.seen_at_start], [true, true, true, 3], JSON.stringify(results));
      t.not(a.pid, b.pid);
      // At the cap, a warm process of the same code is lent to the third environment: no third process.
      t.true([a.pid, b.pid].includes(c.pid));
      t.true(capped.stats().workers <= 2);
    } finally {
      await capped.close();
    }
  });
}
