/**
 * Each front door's mapping, one table per concern: encoded paths, odd query keys, repeated headers,
 * cookies and binary bodies, checked against what AWS sends (live captures in hotsock/voker,
 * vokerhttp/testdata, and the documentation cited in cli/local/events/).
 */
import test from "ava";
import { fromAlbResult, toAlbEvent } from "../../cli/local/events/alb";
import { fromFunctionUrlResult, toFunctionUrlEvent } from "../../cli/local/events/function-url";
import { fromPayloadV2Result, httpApiPath, toHttpApiEvent } from "../../cli/local/events/http-api";
import type { HttpRequest } from "../../cli/local/events/http-request";
import { frontDoor, HTTP_SOURCES } from "../../cli/local/events/http-sources";
import { fromRestApiResult, toRestApiEvent } from "../../cli/local/events/rest-api";

const time = new Date(Date.UTC(2020, 2, 12, 19, 3, 58, 390));

function request(overrides: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: "GET",
    path: "",
    rawQueryString: "",
    rawHeaders: ["Host", "127.0.0.1:3000"],
    body: Buffer.alloc(0),
    sourceIp: "127.0.0.1",
    requestId: "JKJaXmPLvHcESHA=",
    time,
    port: 3000,
    traceId: "Root=1-5e6a8a3e-000000000000000000000000",
    ...overrides,
  };
}

/** The event each source makes of one request (the HTTP API's, unwrapped). */
function events(r: HttpRequest): Record<string, any> {
  const http = toHttpApiEvent(r);
  const rest = toRestApiEvent(r);
  return {
    "http-api": "event" in http ? http.event : http.answer,
    "function-url": toFunctionUrlEvent(r, { requestId: "id" }),
    "rest-api": "event" in rest ? rest.event : rest.answer,
    alb: toAlbEvent(r),
    "alb-multi": toAlbEvent(r, { multiValue: true }),
  };
}

const ADDED = {
  "x-amzn-trace-id": "Root=1-5e6a8a3e-000000000000000000000000",
  "x-forwarded-for": "127.0.0.1",
  "x-forwarded-port": "3000",
  "x-forwarded-proto": "http",
};

test("paths: HTTP APIs decode (twice, cut at a decoded ?), the others keep them as sent", (t) => {
  // sent → [HTTP API rawPath (undefined: 400), function URL http.path]
  const table: Array<[string, string | undefined, string]> = [
    ["/capture/plain", "/capture/plain", "/capture/plain"],
    ["/capture/space%20value", "/capture/space value", "/capture/space value"],
    ["/capture/question%3Fvalue", "/capture/question", "/capture/question?value"],
    ["/capture/percent%25done", undefined, "/capture/percent%done"],
    ["/capture/hash%23value", "/capture/hash#value", "/capture/hash#value"],
    ["/capture/slash%2Fvalue", "/capture/slash/value", "/capture/slash/value"],
    ["/capture/unicode-%CE%BB-%E4%B8%96%E7%95%8C", "/capture/unicode-λ-世界", "/capture/unicode-λ-世界"],
    ["/capture/literal%252Fvalue", "/capture/literal/value", "/capture/literal%2Fvalue"],
    ["/capture/literal%2525value", "/capture/literal%value", "/capture/literal%25value"],
  ];
  for (const [sent, httpApi, urlPath] of table) {
    t.is(httpApiPath(sent), httpApi, sent);
    const e = events(request({ path: sent }));
    if (httpApi === undefined) t.deepEqual(e["http-api"].statusCode, 400, sent);
    else {
      t.is(e["http-api"].rawPath, httpApi, sent);
      t.is(e["http-api"].requestContext.http.path, httpApi, sent);
    }
    t.is(e["function-url"].rawPath, sent, sent);
    t.is(e["function-url"].requestContext.http.path, urlPath, sent);
    t.is(e["rest-api"].path, sent, sent);
    t.is(e["rest-api"].pathParameters.proxy, sent.slice(1), sent);
    t.is(e["rest-api"].requestContext.path, `/local${sent}`, sent);
    t.is(e.alb.path, sent, sent);
  }
  t.is(events(request({ path: "" }))["http-api"].rawPath, "/");
  t.deepEqual(toHttpApiEvent(request({ path: "/%zz" })), {
    answer: {
      statusCode: 400,
      headers: { "content-type": "application/json" },
      body: Buffer.from('{"message":"Bad Request"}'),
    },
  });
});

test("query keys named like Object's members are plain keys in every source", (t) => {
  const raw = "constructor=1&toString=2&__proto__=3&hasOwnProperty=4&a+b=c%2Bd&a+b=e+f";
  const e = events(request({ rawQueryString: raw }));
  const decoded = {
    constructor: "1",
    toString: "2",
    ["__proto__"]: "3",
    hasOwnProperty: "4",
    "a b": "c+d,e f",
  };
  const own = (o: object) => Object.entries(o);
  t.deepEqual(own(e["http-api"].queryStringParameters), own(decoded));
  t.deepEqual(own(e["function-url"].queryStringParameters), own(decoded));
  t.is(Object.getPrototypeOf(e["http-api"].queryStringParameters), Object.prototype);
  t.deepEqual(
    own(e["rest-api"].queryStringParameters),
    own({ ...decoded, "a b": "e f" }).map(([k, v]) => [k, k === "__proto__" ? "3" : v]),
  );
  t.deepEqual(e["rest-api"].multiValueQueryStringParameters["a b"], ["c+d", "e f"]);
  t.deepEqual(e["rest-api"].multiValueQueryStringParameters.constructor, ["1"]);
  // ALB passes query strings on undecoded.
  t.deepEqual(own(e.alb.queryStringParameters), [
    ["constructor", "1"],
    ["toString", "2"],
    ["__proto__", "3"],
    ["hasOwnProperty", "4"],
    ["a+b", "e+f"],
  ]);
  t.deepEqual(e["alb-multi"].multiValueQueryStringParameters["a+b"], ["c%2Bd", "e+f"]);
  t.is(e["http-api"].rawQueryString, raw);
  // Header names too.
  const headers = events(request({ rawHeaders: ["Host", "h", "Constructor", "x", "__proto__", "y"] }));
  t.is(headers["http-api"].headers.constructor, "x");
  t.is(Object.getOwnPropertyDescriptor(headers["http-api"].headers, "__proto__")?.value, "y");
  t.is(headers["rest-api"].headers.Constructor, "x");
});

test("repeated headers and cookies, as each source delivers them", (t) => {
  const rawHeaders = [
    "Host",
    "127.0.0.1:3000",
    "X-Multi",
    "one",
    "Cookie",
    "s=1; t=2",
    "x-multi",
    "two",
    "User-Agent",
    "curl/8",
  ];
  const e = events(request({ rawHeaders }));
  t.deepEqual(e["http-api"].headers, {
    host: "127.0.0.1:3000",
    "x-multi": "one,two",
    "user-agent": "curl/8",
    ...ADDED,
  });
  t.deepEqual(e["http-api"].cookies, ["s=1", "t=2"]);
  t.deepEqual(e["function-url"].headers, {
    host: "127.0.0.1:3000",
    "x-multi": "one,two",
    cookie: "s=1; t=2",
    "user-agent": "curl/8",
    ...ADDED,
  });
  t.deepEqual(e["function-url"].cookies, ["s=1", "t=2"]);
  t.is(e["function-url"].requestContext.accountId, "anonymous");
  t.deepEqual(e["rest-api"].headers, {
    Host: "127.0.0.1:3000",
    "X-Multi": "one",
    Cookie: "s=1; t=2",
    "x-multi": "two",
    "User-Agent": "curl/8",
    ...ADDED,
  });
  t.deepEqual(e["rest-api"].multiValueHeaders["X-Multi"], ["one"]);
  t.deepEqual(e["rest-api"].multiValueHeaders["x-multi"], ["two"]);
  t.is(e["rest-api"].requestContext.identity.userAgent, "curl/8");
  t.deepEqual(e.alb.headers, {
    host: "127.0.0.1:3000",
    "x-multi": "two",
    cookie: "s=1; t=2",
    "user-agent": "curl/8",
    ...ADDED,
  });
  t.deepEqual(e["alb-multi"].multiValueHeaders["x-multi"], ["one", "two"]);
});

test("bodies: text as text, binary base64 (REST passes text without binary media types)", (t) => {
  const bytes = Buffer.from([0, 1, 2, 250, 255]);
  const binary = events(
    request({ method: "POST", rawHeaders: ["Content-Type", "application/octet-stream"], body: bytes }),
  );
  for (const source of ["http-api", "function-url", "alb"]) {
    t.is(binary[source].body, "AAEC+v8=", source);
    t.true(binary[source].isBase64Encoded, source);
  }
  t.false(binary["rest-api"].isBase64Encoded);
  const json = events(
    request({
      method: "POST",
      rawHeaders: ["Content-Type", "application/json"],
      body: Buffer.from('{"ü":1}'),
    }),
  );
  for (const source of HTTP_SOURCES) {
    t.is(json[source].body, '{"ü":1}', source);
    t.false(json[source].isBase64Encoded, source);
  }
  const gzip = toAlbEvent(
    request({
      method: "POST",
      rawHeaders: ["Content-Type", "text/plain", "Content-Encoding", "gzip"],
      body: Buffer.from("x"),
    }),
  );
  t.true(gzip.isBase64Encoded);
  const empty = events(request());
  t.false("body" in empty["http-api"]);
  t.is(empty["rest-api"].body, null);
  t.is(empty.alb.body, "");
});

test("the whole payload 2.0 event of a GET", (t) => {
  const made = toHttpApiEvent(
    request({
      path: "/items/7",
      rawQueryString: "a=1&a=2&flag",
      rawHeaders: ["Host", "127.0.0.1:3000", "User-Agent", "curl/8"],
    }),
    {
      routeKey: "GET /items/{id}",
      pathParameters: { id: "7" },
    },
  );
  t.deepEqual("event" in made && made.event, {
    version: "2.0",
    routeKey: "GET /items/{id}",
    rawPath: "/items/7",
    rawQueryString: "a=1&a=2&flag",
    headers: { host: "127.0.0.1:3000", "user-agent": "curl/8", ...ADDED },
    queryStringParameters: { a: "1,2", flag: "" },
    pathParameters: { id: "7" },
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: "127.0.0.1",
      domainPrefix: "127",
      http: {
        method: "GET",
        path: "/items/7",
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "curl/8",
      },
      requestId: "JKJaXmPLvHcESHA=",
      routeKey: "GET /items/{id}",
      stage: "$default",
      time: "12/Mar/2020:19:03:58 +0000",
      timeEpoch: 1584039838390,
    },
    isBase64Encoded: false,
  } as unknown);
});

test("results: each source's response, and what each answers for a malformed one", (t) => {
  const result = {
    statusCode: 201,
    headers: { "X-A": "1" },
    multiValueHeaders: { "X-B": ["2", "3"] },
    cookies: ["c=1"],
    body: "AAEC",
    isBase64Encoded: true,
  };
  t.deepEqual(fromPayloadV2Result(result), {
    statusCode: 201,
    headers: { "x-a": "1", "set-cookie": ["c=1"], "content-type": "application/json" },
    body: Buffer.from([0, 1, 2]),
  });
  t.deepEqual(fromFunctionUrlResult(result), fromPayloadV2Result(result));
  t.deepEqual(fromRestApiResult(result), {
    statusCode: 201,
    headers: { "X-A": "1", "X-B": ["2", "3"], "content-type": "application/json" },
    body: Buffer.from([0, 1, 2]),
  });
  t.deepEqual(fromAlbResult(result), {
    statusCode: 201,
    headers: { "x-a": "1" },
    body: Buffer.from([0, 1, 2]),
  });
  t.deepEqual(fromAlbResult(result, { multiValue: true }), {
    statusCode: 201,
    headers: { "x-b": ["2", "3"] },
    body: Buffer.from([0, 1, 2]),
  });
  // A result without statusCode: payload 2.0 infers a 200 JSON body; REST and ALB call it malformed.
  t.deepEqual(fromPayloadV2Result({ hi: 1 }).statusCode, 200);
  t.deepEqual(fromPayloadV2Result("plain").body, Buffer.from("plain"));
  const malformed = { hi: 1 };
  const answers = Object.fromEntries(
    HTTP_SOURCES.map((s) => [
      s,
      [frontDoor(s).fromResult({ statusCode: "oops" }).statusCode, frontDoor(s).failed().statusCode],
    ]),
  );
  t.deepEqual(answers, {
    "http-api": [500, 500],
    "function-url": [502, 502],
    "rest-api": [502, 502],
    alb: [502, 502],
    "alb-multi": [502, 502],
  });
  t.is(fromRestApiResult(malformed).statusCode, 502);
  t.deepEqual(JSON.parse(fromRestApiResult(malformed).body.toString()), { message: "Internal server error" });
  t.is(fromRestApiResult({ statusCode: 200, body: { not: "a string" } }).statusCode, 502);
  t.is(fromAlbResult(malformed).statusCode, 502);
});
