import test, { type ExecutionContext } from "ava";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { startGateway, type GatewayRequestRecord } from "../../cli/local/gateway";
import type { InvokeOptions, InvokeResult, Invoker } from "../../cli/local/invoker";

type Respond = (event: any, options: InvokeOptions) => Partial<InvokeResult> & { result?: unknown };

/** An Invoker that answers from a function and records what it was given. */
class FakeInvoker implements Invoker {
  readonly calls: Array<{ event: any; options: InvokeOptions }> = [];
  private notify: (() => void) | undefined;
  constructor(private readonly respond: Respond) {}

  async invoke(payload: Buffer, options: InvokeOptions): Promise<InvokeResult> {
    const event = payload.length === 0 ? {} : JSON.parse(payload.toString("utf8"));
    this.calls.push({ event, options });
    this.notify?.();
    const { result, ...rest } = this.respond(event, options);
    return {
      payload: Buffer.from(JSON.stringify(result)),
      requestId: options.requestId ?? "fake-id",
      durationMs: 1,
      ...rest,
    };
  }

  /** Resolves once the invoker has been called. */
  called(): Promise<void> {
    return this.calls.length > 0 ? Promise.resolve() : new Promise((resolve) => (this.notify = resolve));
  }

  async close(): Promise<void> {}
}

const ERROR = { errorType: "Boom", errorMessage: "kaput", trace: ["Boom: kaput"] };

async function setup(t: ExecutionContext) {
  const echo = new FakeInvoker((event, options) => ({
    result: { received: event },
    logTail: options.tail ? "START RequestId: x Version: $LATEST\nhello\nEND RequestId: x\n" : undefined,
  }));
  const fails = new FakeInvoker(() => ({ result: ERROR, functionError: "Unhandled" }));
  const http = new FakeInvoker((event) => ({
    result: {
      statusCode: 201,
      headers: { "X-Path": event.rawPath },
      cookies: ["a=1; Path=/", "b=2"],
      body: JSON.stringify({
        method: event.requestContext.http.method,
        query: event.queryStringParameters ?? null,
        cookies: event.cookies ?? null,
        body: event.body ?? null,
        isBase64Encoded: event.isBase64Encoded,
      }),
    },
  }));
  const records: GatewayRequestRecord[] = [];
  const functions = new Map<string, Invoker>([
    ["echo", echo],
    ["fails", fails],
    ["http", http],
  ]);
  const gateway = await startGateway({ functions, onRequest: (r) => records.push(r) });
  t.teardown(() => gateway.close());
  const client = new LambdaClient({
    endpoint: gateway.url,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
    maxAttempts: 1,
  });
  t.teardown(() => client.destroy());
  return { gateway, client, echo, fails, http, records };
}

function payload(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

function decode(bytes: Uint8Array | undefined): unknown {
  return JSON.parse(Buffer.from(bytes ?? []).toString("utf8"));
}

test("RequestResponse returns the result, by name or by ARN", async (t) => {
  const { client, echo } = await setup(t);
  const byName = await client.send(new InvokeCommand({ FunctionName: "echo", Payload: payload({ a: 1 }) }));
  t.is(byName.StatusCode, 200);
  t.is(byName.ExecutedVersion, "$LATEST");
  t.is(byName.FunctionError, undefined);
  t.deepEqual(decode(byName.Payload), { received: { a: 1 } });
  const arn = "arn:aws:lambda:us-east-1:123456789012:function:echo:live";
  const byArn = await client.send(new InvokeCommand({ FunctionName: arn, Payload: payload({ b: 2 }) }));
  t.deepEqual(decode(byArn.Payload), { received: { b: 2 } });
  t.is(echo.calls.length, 2);
  t.false(echo.calls[0].options.tail);
});

test("Event answers 202 and runs in the background; DryRun answers 204 and runs nothing", async (t) => {
  const { client, echo, records } = await setup(t);
  const dry = await client.send(new InvokeCommand({ FunctionName: "echo", InvocationType: "DryRun" }));
  t.is(dry.StatusCode, 204);
  t.is(echo.calls.length, 0);
  const queued = await client.send(
    new InvokeCommand({ FunctionName: "echo", InvocationType: "Event", Payload: payload({ e: 1 }) }),
  );
  t.is(queued.StatusCode, 202);
  await echo.called();
  t.deepEqual(echo.calls[0].event, { e: 1 });
  t.like(records[0], { kind: "invoke", name: "echo", method: "POST", status: 204 });
});

test("LogType Tail returns the log tail base64-encoded", async (t) => {
  const { client } = await setup(t);
  const result = await client.send(
    new InvokeCommand({ FunctionName: "echo", LogType: "Tail", Payload: payload({}) }),
  );
  t.is(
    Buffer.from(result.LogResult ?? "", "base64").toString(),
    "START RequestId: x Version: $LATEST\nhello\nEND RequestId: x\n",
  );
});

test("a function error is a 200 with FunctionError Unhandled and the error as payload", async (t) => {
  const { client } = await setup(t);
  const result = await client.send(new InvokeCommand({ FunctionName: "fails", Payload: payload({}) }));
  t.is(result.StatusCode, 200);
  t.is(result.FunctionError, "Unhandled");
  t.deepEqual(decode(result.Payload), ERROR);
});

test("Lambda's own errors reach the SDK as their exception classes", async (t) => {
  const { client, echo } = await setup(t);
  const missing = await t.throwsAsync(client.send(new InvokeCommand({ FunctionName: "nope" })));
  t.is(missing?.name, "ResourceNotFoundException");
  t.is(missing?.message, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope");
  const huge = new Uint8Array(7 * 1024 * 1024).fill(0x20);
  const tooLarge = await t.throwsAsync(
    client.send(new InvokeCommand({ FunctionName: "echo", Payload: huge })),
  );
  t.is(tooLarge?.name, "RequestTooLargeException");
  t.is(
    tooLarge?.message,
    "Request must be smaller than 6291456 bytes for the InvokeFunction operation (got 7340032 bytes)",
  );
  const invalid = await t.throwsAsync(
    client.send(new InvokeCommand({ FunctionName: "echo", Payload: Buffer.from("{nope") })),
  );
  t.is(invalid?.name, "InvalidRequestContentException");
  t.regex(invalid?.message ?? "", /^Could not parse request body into json: /);
  t.is(echo.calls.length, 0);
});

test("plain HTTP becomes an API Gateway event and the result an HTTP response", async (t) => {
  const { gateway, http } = await setup(t);
  const got = await fetch(`${gateway.url}/http/items/7?a=1&a=2`, { headers: { cookie: "s=1; t=2" } });
  t.is(got.status, 201);
  t.is(got.headers.get("x-path"), "/items/7");
  t.is(got.headers.get("content-type"), "application/json");
  t.deepEqual(got.headers.getSetCookie(), ["a=1; Path=/", "b=2"]);
  t.deepEqual(await got.json(), {
    method: "GET",
    query: { a: "1,2" },
    cookies: ["s=1", "t=2"],
    body: null,
    isBase64Encoded: false,
  });

  const text = await fetch(`${gateway.url}/http`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"x":1}',
  });
  t.deepEqual(await text.json(), {
    method: "POST",
    query: null,
    cookies: null,
    body: '{"x":1}',
    isBase64Encoded: false,
  });
  t.is(http.calls[1].event.rawPath, "/");

  const binary = await fetch(`${gateway.url}/http/upload`, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body: new Uint8Array([0, 1, 2, 250, 255]),
  });
  t.deepEqual(await binary.json(), {
    method: "PUT",
    query: null,
    cookies: null,
    body: "AAEC+v8=",
    isBase64Encoded: true,
  });
});

test("over HTTP a function error is API Gateway's 500 and an unknown name a 404 listing the functions", async (t) => {
  const { gateway } = await setup(t);
  const failed = await fetch(`${gateway.url}/fails/x`);
  t.is(failed.status, 500);
  t.deepEqual(await failed.json(), { message: "Internal Server Error" });
  const unknown = await fetch(`${gateway.url}/nope/x`);
  t.is(unknown.status, 404);
  t.deepEqual(await unknown.json(), {
    message: 'No function named "nope" is served here. Call /<name>/<path> with one of: echo, fails, http.',
    functions: ["echo", "fails", "http"],
  });
  const index = await fetch(`${gateway.url}/`);
  const body = (await index.json()) as { functions: Array<{ name: string; http: string }> };
  t.deepEqual(
    body.functions.map((f) => [f.name, f.http]),
    [
      ["echo", `${gateway.url}/echo/`],
      ["fails", `${gateway.url}/fails/`],
      ["http", `${gateway.url}/http/`],
    ],
  );
});

test("requests addressed to another host name are refused (DNS rebinding)", async (t) => {
  const gateway = await startGateway({ port: 0, functions: new Map() });
  t.teardown(() => gateway.close());
  const status = (host: string) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: "127.0.0.1", port: gateway.port, path: "/", headers: { host } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
  t.is(await status("evil.example:80"), 403);
  t.is(await status(`127.0.0.1:${gateway.port}`), 200);
  t.is(await status(`localhost:${gateway.port}`), 200);
});

test("cross-site requests from a web page are refused; this machine's pages, curl and the AWS SDK are served", async (t) => {
  const { gateway, client, echo, http } = await setup(t);
  const origin = gateway.url;
  // What a browser sends for a form POST or a fetch from another site, and for a plain link or GET.
  const refused: [string, RequestInit][] = [
    [
      "form POST from another site",
      {
        method: "POST",
        headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
        body: "a=1",
      },
    ],
    [
      "fetch from another site, Origin only",
      { method: "POST", headers: { origin: "https://evil.example" }, body: "{}" },
    ],
    ["GET from another site", { headers: { "sec-fetch-site": "cross-site" } }],
    ["a sandboxed page", { method: "POST", headers: { origin: "null" } }],
    ["a look-alike name", { method: "POST", headers: { origin: "http://localhost.evil.example" } }],
  ];
  for (const [what, init] of refused) {
    const response = await fetch(`${gateway.url}/http/x`, init);
    t.is(response.status, 403, what);
    t.regex(((await response.json()) as { message: string }).message, /^Cross-site requests are not served/);
    const invoke = await fetch(`${gateway.url}/2015-03-31/functions/echo/invocations`, {
      ...init,
      method: "POST",
    });
    t.is(invoke.status, 403, `${what} (Invoke API)`);
  }
  t.is(echo.calls.length + http.calls.length, 0);
  const served: [string, RequestInit][] = [
    [
      "same-origin fetch",
      { method: "POST", headers: { origin, "sec-fetch-site": "same-origin" }, body: "{}" },
    ],
    ["typed in the address bar", { headers: { "sec-fetch-site": "none" } }],
    [
      "a front end served on another port of this machine",
      {
        method: "POST",
        headers: { origin: "http://localhost:5173", "sec-fetch-site": "same-site" },
        body: "{}",
      },
    ],
    ["curl", {}],
  ];
  for (const [what, init] of served) {
    t.is((await fetch(`${gateway.url}/http/x`, init)).status, 201, what);
  }
  const result = await client.send(new InvokeCommand({ FunctionName: "echo", Payload: payload({ n: 1 }) }));
  t.deepEqual(decode(result.Payload), { received: { n: 1 } });
});

test("HTTP API events carry the decoded path and plain query keys (issue 10, item 4)", async (t) => {
  const { gateway, http } = await setup(t);
  const got = await fetch(`${gateway.url}/http/caf%C3%A9/a%20b?constructor=1&__proto__=2&toString=3`);
  t.is(got.status, 201);
  const event = http.calls[0].event;
  t.is(event.rawPath, "/café/a b");
  t.is(event.requestContext.http.path, "/café/a b");
  t.deepEqual(Object.entries(event.queryStringParameters), [
    ["constructor", "1"],
    ["__proto__", "2"],
    ["toString", "3"],
  ]);
});

test("each function's HTTP requests imitate its front door; HTTP API routes select the function", async (t) => {
  const seen: Array<{ name: string; event: any }> = [];
  const invoker = (name: string, result: unknown): Invoker => ({
    invoke: async (payload) => {
      seen.push({ name, event: JSON.parse(payload.toString()) });
      return { payload: Buffer.from(JSON.stringify(result)), requestId: "r", durationMs: 1 };
    },
    close: async () => undefined,
  });
  const functions = new Map<string, Invoker>([
    ["url", invoker("url", { statusCode: 200, body: "u" })],
    ["rest", invoker("rest", { statusCode: 200, body: "r" })],
    ["alb", invoker("alb", { statusCode: 200, body: "a" })],
    ["items", invoker("items", { ok: true })],
  ]);
  const gateway = await startGateway({ port: 0 });
  t.teardown(() => gateway.close());
  t.is((await fetch(`${gateway.url}/url/`)).status, 503); // routes not set yet: still starting
  gateway.setRoutes({
    functions,
    httpSources: new Map([
      ["url", "function-url"],
      ["rest", "rest-api"],
      ["alb", "alb"],
    ]),
    apis: new Map([
      [
        "shop",
        {
          name: "shop",
          apiId: "shop",
          routes: [
            { routeKey: "GET /items/{id}", functionName: "items", payloadFormat: "2.0" },
            { routeKey: "ANY /legacy/{proxy+}", functionName: "items", payloadFormat: "1.0" },
          ],
        },
      ],
    ]),
  });
  await fetch(`${gateway.url}/url/a%20b`);
  await fetch(`${gateway.url}/rest/a%20b`);
  await fetch(`${gateway.url}/alb/a%20b?x=%2B`);
  t.deepEqual(
    seen.map((s) => [s.name, s.event.rawPath ?? s.event.path]),
    [
      ["url", "/a%20b"],
      ["rest", "/a%20b"],
      ["alb", "/a%20b"],
    ],
  );
  t.deepEqual(seen[2].event.queryStringParameters, { x: "%2B" });
  t.is(seen[2].event.requestContext.elb.targetGroupArn.split(":")[2], "elasticloadbalancing");
  const item = await fetch(`${gateway.url}/shop/items/caf%C3%A9`);
  t.is(item.status, 200);
  t.deepEqual(await item.json(), { ok: true });
  t.like(seen[3].event, {
    routeKey: "GET /items/{id}",
    pathParameters: { id: "café" },
    rawPath: "/items/café",
  });
  const legacy = await fetch(`${gateway.url}/shop/legacy/a/b`, { method: "POST" });
  t.is(legacy.status, 502); // format 1.0 results are read as REST's: { ok: true } is malformed
  t.like(seen[4].event, {
    version: "1.0",
    resource: "/legacy/{proxy+}",
    path: "/legacy/a/b",
    pathParameters: { proxy: "a/b" },
  });
  const none = await fetch(`${gateway.url}/shop/nothing`);
  t.is(none.status, 404);
  t.deepEqual(await none.json(), { message: "Not Found" });
  t.is((await fetch(`${gateway.url}/shop/items/%25zz`)).status, 400);
  t.is(seen.length, 5);
});

test("both Invoke APIs check a request alike: unknown function 404, invocation type 400 with its own list, bad JSON 400, DryRun 204", async (t) => {
  const { gateway, echo } = await setup(t);
  const paths = {
    invoke: (name: string) => `/2015-03-31/functions/${name}/invocations`,
    stream: (name: string) => `/2021-11-15/functions/${name}/response-streaming-invocations`,
  };
  const post = async (path: string, body: string, type?: string) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method: "POST",
      body,
      headers: type ? { "x-amz-invocation-type": type } : {},
    });
    return {
      status: response.status,
      text: await response.text(),
      kind: response.headers.get("x-amzn-errortype"),
    };
  };
  for (const [api, path] of Object.entries(paths)) {
    const missing = await post(path("nope"), "{}");
    t.is(missing.status, 404, api);
    t.regex(missing.text, /Function not found: arn:aws:lambda:[^:]+:000000000000:function:nope/, api);
    const badType = await post(path("echo"), "{}", "Sometimes");
    t.is(badType.status, 400, api);
    t.regex(
      badType.text,
      api === "invoke" ? /\[Event, RequestResponse, DryRun\]/ : /\[RequestResponse, DryRun\]/,
      api,
    );
    // Event is an invocation type of Invoke only.
    if (api === "stream") t.is((await post(path("echo"), "{}", "Event")).status, 400);
    const badJson = await post(path("echo"), "{not json");
    t.is(badJson.status, 400, api);
    t.regex(badJson.text, /Could not parse request body into json/, api);
    t.is((await post(path("echo"), "{}", "DryRun")).status, 204, api);
  }
  t.is(echo.calls.length, 0);
});

test("a client that goes away halfway through its body invokes nothing, and the gateway goes on serving", async (t) => {
  const { gateway, client, echo, records } = await setup(t);
  const { port } = new URL(gateway.url);
  await new Promise<void>((resolve) => {
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.write(
        "POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
          "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n" +
          '{"a": "only the start',
      );
      // Gone once the gateway had the headers and the first bytes.
      setTimeout(() => socket.destroy(), 50);
    });
    socket.on("close", () => resolve());
    socket.on("error", () => undefined);
  });
  const answer = await client.send(
    new InvokeCommand({ FunctionName: "echo", Payload: payload({ after: 1 }) }),
  );
  t.deepEqual(decode(answer.Payload), { received: { after: 1 } });
  t.deepEqual(
    echo.calls.map((c) => c.event),
    [{ after: 1 }],
  );
  // The broken request is recorded as the gateway's failure to read it.
  t.true(
    records.some((r) => r.status === 500 && r.kind === "http"),
    JSON.stringify(records),
  );
});
