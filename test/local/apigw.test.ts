import test from "ava";
import { fromHttpApiResult, toHttpApiEvent, type HttpRequest } from "../../cli/local/apigw";

const time = new Date(Date.UTC(2020, 2, 12, 19, 3, 58, 390));

function request(overrides: Partial<HttpRequest>): HttpRequest {
  return {
    method: "GET",
    path: "",
    rawQueryString: "",
    rawHeaders: ["Host", "127.0.0.1:8080"],
    body: Buffer.alloc(0),
    sourceIp: "127.0.0.1",
    requestId: "JKJaXmPLvHcESHA=",
    time,
    ...overrides,
  };
}

function context(method: string, path: string, userAgent = ""): unknown {
  return {
    accountId: "000000000000",
    apiId: "local",
    domainName: "127.0.0.1",
    domainPrefix: "127",
    http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent },
    requestId: "JKJaXmPLvHcESHA=",
    routeKey: "$default",
    stage: "$default",
    time: "12/Mar/2020:19:03:58 +0000",
    timeEpoch: 1584039838390,
  };
}

test("a GET with query, cookies and repeated headers", (t) => {
  const event = toHttpApiEvent(
    request({
      path: "/my/path",
      rawQueryString: "a=1&a=2&b=x%20y&flag",
      rawHeaders: [
        "Host",
        "127.0.0.1:8080",
        "User-Agent",
        "curl/8.5.0",
        "X-Multi",
        "one",
        "Cookie",
        "session=abc; theme=dark",
        "x-multi",
        "two",
        "Cookie",
        "extra=1",
      ],
    }),
  );
  t.deepEqual(event, {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/my/path",
    rawQueryString: "a=1&a=2&b=x%20y&flag",
    cookies: ["session=abc", "theme=dark", "extra=1"],
    headers: { host: "127.0.0.1:8080", "user-agent": "curl/8.5.0", "x-multi": "one,two" },
    queryStringParameters: { a: "1,2", b: "x y", flag: "" },
    requestContext: context("GET", "/my/path", "curl/8.5.0"),
    isBase64Encoded: false,
  } as unknown);
});

test("the root path is / and an empty query leaves queryStringParameters out", (t) => {
  const event = toHttpApiEvent(request({}));
  t.deepEqual(event, {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/",
    rawQueryString: "",
    headers: { host: "127.0.0.1:8080" },
    requestContext: context("GET", "/"),
    isBase64Encoded: false,
  } as unknown);
});

test("a POST with a JSON body reaches the handler as text", (t) => {
  const event = toHttpApiEvent(
    request({
      method: "post",
      path: "/items",
      rawHeaders: ["Host", "127.0.0.1:8080", "Content-Type", "application/json; charset=utf-8"],
      body: Buffer.from('{"name":"ü"}'),
    }),
  );
  t.is(event.body, '{"name":"ü"}');
  t.false(event.isBase64Encoded);
  t.is(event.requestContext.http.method, "POST");
  t.deepEqual(event.headers, { host: "127.0.0.1:8080", "content-type": "application/json; charset=utf-8" });
});

test("a POST with a binary body reaches the handler base64-encoded", (t) => {
  const bytes = Buffer.from([0, 1, 2, 250, 255]);
  const event = toHttpApiEvent(
    request({ method: "POST", rawHeaders: ["Content-Type", "application/octet-stream"], body: bytes }),
  );
  t.is(event.body, "AAEC+v8=");
  t.true(event.isBase64Encoded);
  t.is(event.requestContext.domainName, "localhost");
});

test("a result with statusCode maps headers, cookies and a base64 body", (t) => {
  t.deepEqual(
    fromHttpApiResult({
      statusCode: 201,
      headers: { "Content-Type": "image/png", "X-Count": 3 },
      multiValueHeaders: { ignored: ["yes"] },
      cookies: ["a=1; Path=/", "b=2"],
      body: "AAEC",
      isBase64Encoded: true,
    }),
    {
      statusCode: 201,
      headers: { "content-type": "image/png", "x-count": "3", "set-cookie": ["a=1; Path=/", "b=2"] },
      body: Buffer.from([0, 1, 2]),
    },
  );
});

test("a result with statusCode and no content type or body defaults to JSON and empty", (t) => {
  t.deepEqual(fromHttpApiResult({ statusCode: 204 }), {
    statusCode: 204,
    headers: { "content-type": "application/json" },
    body: Buffer.alloc(0),
  });
});

test("anything without statusCode is a 200 JSON response", (t) => {
  const json = { "content-type": "application/json" };
  t.deepEqual(fromHttpApiResult("Hello from Lambda!"), {
    statusCode: 200,
    headers: json,
    body: Buffer.from("Hello from Lambda!"),
  });
  t.deepEqual(fromHttpApiResult({ message: "hi" }), {
    statusCode: 200,
    headers: json,
    body: Buffer.from('{"message":"hi"}'),
  });
  t.deepEqual(fromHttpApiResult(42), { statusCode: 200, headers: json, body: Buffer.from("42") });
  t.deepEqual(fromHttpApiResult(null), { statusCode: 200, headers: json, body: Buffer.from("null") });
});

test("a malformed statusCode is API Gateway's 500", (t) => {
  t.deepEqual(fromHttpApiResult({ statusCode: "ok" }), {
    statusCode: 500,
    headers: { "content-type": "application/json" },
    body: Buffer.from('{"message":"Internal Server Error"}'),
  });
});
