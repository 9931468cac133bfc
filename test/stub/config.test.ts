import test from "ava";
import { readStubConfig } from "../../stub/config";
import { httpEventKind, PUBLIC_UNAVAILABLE_MESSAGE, unavailableResponse } from "../../stub/http-event";

const KEY = Buffer.alloc(32, 7).toString("base64");
const BASE = {
  PULUMI_LIVE_PREFIX: "pulumi-live/shop/dev",
  PULUMI_LIVE_FUNCTION_ID: "api",
  PULUMI_LIVE_KEY: KEY,
  PULUMI_LIVE_CLIENT_PREFIX: "pulumi-live-abc-",
  PULUMI_LIVE_STACK: "shop/dev",
};

test("a complete IoT configuration is read", (t) => {
  const config = readStubConfig({
    ...BASE,
    PULUMI_LIVE_ENDPOINT: "x-ats.iot.eu-west-1.amazonaws.com",
    PULUMI_LIVE_FALLBACK: "fallback/index.handler",
    PULUMI_LIVE_ACK_TIMEOUT_MS: "1500",
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "AKID",
    AWS_SECRET_ACCESS_KEY: "secret",
  });
  t.deepEqual(config, {
    prefix: "pulumi-live/shop/dev",
    functionId: "api",
    key: Buffer.alloc(32, 7),
    clientPrefix: "pulumi-live-abc-",
    stack: "shop/dev",
    broker: { kind: "iot", endpoint: "x-ats.iot.eu-west-1.amazonaws.com", region: "eu-west-1" },
    fallback: "fallback/index.handler",
    ackTimeoutMs: 1500,
  });
});

test("a broker URL replaces the endpoint and the ack timeout defaults to 2 s", (t) => {
  const config = readStubConfig({ ...BASE, PULUMI_LIVE_BROKER_URL: "ws://127.0.0.1:1884" });
  t.deepEqual(config.broker, { kind: "url", url: "ws://127.0.0.1:1884" });
  t.is(config.ackTimeoutMs, 2000);
  t.is(config.fallback, undefined);
});

test("every problem is reported at once, naming the variables and the fix", (t) => {
  const error = t.throws(() =>
    readStubConfig({
      PULUMI_LIVE_KEY: "c2hvcnQ=",
      PULUMI_LIVE_ACK_TIMEOUT_MS: "soon",
      PULUMI_LIVE_STACK: "shop/dev",
    }),
  );
  t.is(error?.name, "PulumiLive.Config");
  t.is(
    error?.message,
    "The pulumi-live relay stub is misconfigured: missing PULUMI_LIVE_PREFIX, PULUMI_LIVE_FUNCTION_ID, " +
      "PULUMI_LIVE_CLIENT_PREFIX, PULUMI_LIVE_ENDPOINT (or PULUMI_LIVE_BROKER_URL); " +
      "PULUMI_LIVE_KEY is not valid: The session key must be 32 bytes of base64 (got 5 bytes).; " +
      'PULUMI_LIVE_ACK_TIMEOUT_MS must be a positive whole number of milliseconds (got "soon"). ' +
      "Redeploy the function in live mode with `pulumi up` (pulumi config set live true).",
  );
});

test("the IoT endpoint needs the role's credentials and region", (t) => {
  const error = t.throws(() =>
    readStubConfig({ ...BASE, PULUMI_LIVE_ENDPOINT: "x-ats.iot.eu-west-1.amazonaws.com" }),
  );
  t.true(
    error?.message.startsWith(
      "The pulumi-live relay stub is misconfigured: missing AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.",
    ),
  );
});

test("HTTP-shaped events are recognized by their front door", (t) => {
  t.is(httpEventKind({ version: "2.0", requestContext: { http: { method: "GET" } } }), "http-api");
  t.is(httpEventKind({ httpMethod: "GET", requestContext: { stage: "prod" } }), "rest-api");
  t.is(httpEventKind({ httpMethod: "GET", requestContext: { elb: { targetGroupArn: "arn" } } }), "alb");
  t.is(httpEventKind({ Records: [{ eventSource: "aws:sqs" }] }), undefined);
  t.is(httpEventKind({ httpMethod: "GET" }), undefined);
  t.is(httpEventKind("text"), undefined);
  t.is(httpEventKind(null), undefined);
});

test("the 503 takes each front door's response shape", (t) => {
  const body = JSON.stringify({ message: PUBLIC_UNAVAILABLE_MESSAGE });
  const plain = {
    statusCode: 503,
    headers: { "content-type": "application/json" },
    body,
    isBase64Encoded: false,
  };
  t.deepEqual(unavailableResponse("http-api", {}), plain);
  t.deepEqual(unavailableResponse("rest-api", {}), plain);
  t.deepEqual(unavailableResponse("alb", {}), {
    ...plain,
    statusDescription: "503 Service Unavailable",
  });
  t.deepEqual(unavailableResponse("alb", { multiValueHeaders: {} }), {
    statusCode: 503,
    statusDescription: "503 Service Unavailable",
    multiValueHeaders: { "content-type": ["application/json"] },
    body,
    isBase64Encoded: false,
  });
});
