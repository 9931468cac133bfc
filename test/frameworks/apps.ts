/** Real frameworks' Lambda handlers, as users write them, and the events each is invoked with. */

/** The handler sources, by function name (each `src/<name>.ts`, export `handler`). */
export const APPS: Record<string, string> = {
  express: `
import express from "express";
import serverless from "serverless-http";

const app = express();
app.get("/hello/:name", (req, res) => {
  console.log("hello", req.params.name, { query: req.query });
  res.cookie("session", "abc", { httpOnly: true }).cookie("theme", "dark");
  res.set("x-custom", "yes").json({ hi: req.params.name, path: req.path, query: req.query });
});
app.get("/binary", (_req, res) => {
  res.type("image/png").send(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 254, 255]));
});
app.post("/echo", express.text({ type: "*/*" }), (req, res) => {
  console.error("echo of", String(req.body).length, "characters");
  res.status(201).type("text/plain").send(req.body);
});
app.get("/fail", () => {
  throw new Error("express route failed");
});
// Express's own error page, without the stack it shows outside production.
app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
  console.error("express error:", error.message);
  res.status(500).json({ error: error.message });
});
export const handler = serverless(app, { binary: ["image/*"] });
`,
  hono: `
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { handle } from "hono/aws-lambda";

const app = new Hono();
app.get("/hello/:name", (c) => {
  console.log("hello", c.req.param("name"));
  setCookie(c, "session", "abc", { httpOnly: true });
  setCookie(c, "theme", "dark");
  c.header("x-custom", "yes");
  return c.json({ hi: c.req.param("name"), path: c.req.path, query: c.req.queries() });
});
app.get("/binary", (c) => c.body(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 254, 255]), 200, { "content-type": "image/png" }));
app.post("/echo", async (c) => c.text(await c.req.text(), 201));
app.get("/fail", () => {
  throw new Error("hono route failed");
});
export const handler = handle(app);
`,
  fastify: `
import Fastify from "fastify";
import awsLambdaFastify from "@fastify/aws-lambda";

const app = Fastify();
app.get<{ Params: { name: string } }>("/hello/:name", async (req, reply) => {
  console.log("hello", req.params.name);
  reply.header("set-cookie", ["session=abc; HttpOnly", "theme=dark"]).header("x-custom", "yes");
  return { hi: req.params.name, query: req.query };
});
app.get("/binary", async (_req, reply) => {
  reply.type("image/png");
  return Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 254, 255]);
});
app.post("/echo", async (req, reply) => {
  reply.code(201).type("text/plain");
  return req.body;
});
export const handler = awsLambdaFastify(app, { binaryMimeTypes: ["image/png"] });
`,
  middy: `
import middy from "@middy/core";

const base = async (event: { n: number }) => {
  if (event.n < 0) throw new RangeError("n must not be negative, got " + event.n);
  console.log("doubling", event.n);
  return { doubled: event.n * 2 };
};
export const handler = middy(base).use({
  before: (request) => {
    console.log("before", JSON.stringify(request.event));
  },
  after: (request) => {
    request.response = { ...(request.response as object), by: "middy" };
  },
  onError: (request) => {
    console.error("failed:", (request.error as Error).message);
  },
});
`,
  powertools: `
import { Logger } from "@aws-lambda-powertools/logger";

const logger = new Logger({ serviceName: "orders" });
export const handler = async (event: { n: number }, context: unknown) => {
  logger.addContext(context as never);
  logger.info("processing", { n: event.n });
  if (event.n < 0) {
    const error = new TypeError("negative order count");
    logger.error("rejected", error);
    throw error;
  }
  logger.warn("slow path", { ms: 12 });
  return { ok: true, n: event.n };
};
`,
};

/** An API Gateway HTTP API (payload 2.0) event, as API Gateway sends it. */
export function httpEvent(
  method: string,
  rawPath: string,
  options: { query?: string; body?: string; headers?: Record<string, string>; cookies?: string[] } = {},
): Record<string, unknown> {
  const query = options.query ?? "";
  const params = Object.fromEntries(new URLSearchParams(query));
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: query,
    ...(options.cookies ? { cookies: options.cookies } : {}),
    headers: { host: "api.example.com", "user-agent": "frameworks-test", ...options.headers },
    ...(query ? { queryStringParameters: params } : {}),
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: "api.example.com",
      domainPrefix: "api",
      http: {
        method,
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: "frameworks-test",
      },
      requestId: "gw-request",
      routeKey: "$default",
      stage: "$default",
      time: "01/Jan/2026:00:00:00 +0000",
      timeEpoch: 1767225600000,
    },
    ...(options.body !== undefined
      ? { body: options.body, isBase64Encoded: false }
      : { isBase64Encoded: false }),
  };
}

/** What each function is invoked with: a case name and its event. */
export const CASES: Array<{ fn: string; name: string; event: unknown }> = [
  ...["express", "hono", "fastify"].flatMap((fn) => [
    {
      fn,
      name: "JSON, cookies, a custom header",
      event: httpEvent("GET", "/hello/Ada", { query: "x=1&y=two" }),
    },
    { fn, name: "a binary body", event: httpEvent("GET", "/binary") },
    {
      fn,
      name: "a posted body echoed with 201",
      event: httpEvent("POST", "/echo", { body: "ünïcødé text", headers: { "content-type": "text/plain" } }),
    },
    { fn, name: "an unknown route", event: httpEvent("GET", "/nowhere") },
  ]),
  { fn: "express", name: "a route that throws", event: httpEvent("GET", "/fail") },
  { fn: "hono", name: "a route that throws", event: httpEvent("GET", "/fail") },
  { fn: "middy", name: "a result through middlewares", event: { n: 21 } },
  { fn: "middy", name: "an error through onError", event: { n: -1 } },
  { fn: "powertools", name: "structured logs", event: { n: 3 } },
  { fn: "powertools", name: "an error logged and thrown", event: { n: -2 } },
];
