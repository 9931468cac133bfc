import test from "ava";
import { redactEnvironment, redactEvent } from "../../cli/record/redact";

test("secrets are redacted by name: AWS credentials and anything saying key, secret, token or password", (t) => {
  t.deepEqual(
    redactEnvironment({
      AWS_SECRET_ACCESS_KEY: "a",
      AWS_SESSION_TOKEN: "b",
      AWS_ACCESS_KEY_ID: "c",
      AWS_REGION: "eu-west-1",
      apiKey: "d",
      CLIENT_SECRET: "e",
      DB_PASSWORD: "f",
      PGPASSWD: "g",
      TABLE_NAME: "orders",
      MONKEY_BUSINESS: "h",
    }),
    {
      environment: {
        AWS_ACCESS_KEY_ID: "[redacted]",
        AWS_REGION: "eu-west-1",
        AWS_SECRET_ACCESS_KEY: "[redacted]",
        AWS_SESSION_TOKEN: "[redacted]",
        CLIENT_SECRET: "[redacted]",
        DB_PASSWORD: "[redacted]",
        MONKEY_BUSINESS: "[redacted]",
        PGPASSWD: "[redacted]",
        TABLE_NAME: "orders",
        apiKey: "[redacted]",
      },
      redacted: [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "CLIENT_SECRET",
        "DB_PASSWORD",
        "MONKEY_BUSINESS",
        "PGPASSWD",
        "apiKey",
      ],
    },
  );
});

test("an API Gateway v2 event: secret headers and the cookies are redacted, nothing else", (t) => {
  const event = {
    version: "2.0",
    routeKey: "GET /orders",
    rawPath: "/orders",
    rawQueryString: "limit=5",
    cookies: ["session=abc123", "theme=dark"],
    headers: {
      accept: "application/json",
      authorization: "Bearer eyJhbGciOi.secret",
      cookie: "session=abc123; theme=dark",
      "x-api-key": "key-123",
      "X-Amz-Security-Token": "FwoGZXIvYXdzE",
      "x-forwarded-for": "203.0.113.7",
    },
    queryStringParameters: { limit: "5" },
    requestContext: { http: { method: "GET", path: "/orders" } },
    body: "authorization stays in a body",
    isBase64Encoded: false,
  };
  const original = structuredClone(event);
  t.deepEqual(redactEvent(event), {
    event: {
      ...original,
      cookies: ["[redacted]", "[redacted]"],
      headers: {
        accept: "application/json",
        authorization: "[redacted]",
        cookie: "[redacted]",
        "x-api-key": "[redacted]",
        "X-Amz-Security-Token": "[redacted]",
        "x-forwarded-for": "203.0.113.7",
      },
    },
    redacted: [
      "headers.authorization",
      "headers.cookie",
      "headers.x-api-key",
      "headers.X-Amz-Security-Token",
      "cookies",
    ],
  });
  t.deepEqual(event, original);
});

test("a REST (v1) event: headers and multiValueHeaders are redacted, whatever their case", (t) => {
  const event = {
    resource: "/orders",
    path: "/orders",
    httpMethod: "POST",
    headers: {
      Authorization: "Basic dXNlcjpwYXNz",
      "Proxy-Authorization": "Basic cHJveHk6cGFzcw==",
      Cookie: "a=1; b=2",
      "Content-Type": "application/json",
    },
    multiValueHeaders: {
      Authorization: ["Basic dXNlcjpwYXNz"],
      "Proxy-Authorization": ["Basic cHJveHk6cGFzcw=="],
      Cookie: ["a=1", "b=2"],
      "Content-Type": ["application/json"],
    },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    requestContext: { httpMethod: "POST", stage: "prod" },
    body: '{"n":1}',
    isBase64Encoded: false,
  };
  t.deepEqual(redactEvent(event), {
    event: {
      ...event,
      headers: {
        Authorization: "[redacted]",
        "Proxy-Authorization": "[redacted]",
        Cookie: "[redacted]",
        "Content-Type": "application/json",
      },
      multiValueHeaders: {
        Authorization: ["[redacted]"],
        "Proxy-Authorization": ["[redacted]"],
        Cookie: ["[redacted]", "[redacted]"],
        "Content-Type": ["application/json"],
      },
    },
    redacted: [
      "headers.Authorization",
      "headers.Proxy-Authorization",
      "headers.Cookie",
      "multiValueHeaders.Authorization",
      "multiValueHeaders.Proxy-Authorization",
      "multiValueHeaders.Cookie",
    ],
  });
});

test("events without request headers are recorded as they are", (t) => {
  const sqs = { Records: [{ messageId: "1", body: "x" }] };
  t.is(redactEvent(sqs).event, sqs);
  t.deepEqual(redactEvent(sqs).redacted, []);
  t.deepEqual(redactEvent({ headers: null, cookies: [] }), {
    event: { headers: null, cookies: [] },
    redacted: [],
  });
  t.deepEqual(redactEvent("text"), { event: "text", redacted: [] });
});

const ENVIRONMENT_CASES: Array<[name: string, value: string, recorded: string]> = [
  ["PULUMI_CONFIG_PASSPHRASE", "correct horse", "[redacted]"],
  [
    "DATABASE_URL",
    "postgres://app:hunter2@db.internal:5432/orders",
    "postgres://[redacted]@db.internal:5432/orders",
  ],
  ["REDIS_URL", "redis://:s3cret@cache:6379/0", "redis://[redacted]@cache:6379/0"],
  [
    "UPSTREAMS",
    "https://a.example https://user:pw@b.example/x",
    "https://a.example https://[redacted]@b.example/x",
  ],
  ["SENTRY_DSN", "https://abc123@o1.ingest.sentry.io/42", "[redacted]"],
  ["GOOGLE_APPLICATION_CREDENTIALS", "/secrets/gcp.json", "[redacted]"],
  ["BASIC_AUTH", "admin:admin", "[redacted]"],
  ["SIGNING_PRIVATE_PEM", "-----BEGIN", "[redacted]"],
  ["AUTHOR_NAME", "Ada", "Ada"],
  ["WEBHOOK", "https://hooks.example.com/services/x", "https://hooks.example.com/services/x"],
  ["EMAIL", "ada@example.com", "ada@example.com"],
];

for (const [name, value, recorded] of ENVIRONMENT_CASES) {
  test(`environment: ${name} is recorded as ${recorded === value ? "it is" : JSON.stringify(recorded)}`, (t) => {
    const { environment, redacted } = redactEnvironment({ [name]: value });
    t.is(environment[name], recorded);
    t.deepEqual(redacted, recorded === value ? [] : [name]);
  });
}

test("an HTTP API event: token-named query parameters, x-auth-token and URL credentials in headers", (t) => {
  const event = {
    version: "2.0",
    rawPath: "/callback",
    rawQueryString: "code=oauth-code&access_token=tok%201&state=xyz&limit=5",
    queryStringParameters: { code: "oauth-code", access_token: "tok 1", state: "xyz", limit: "5" },
    headers: {
      "x-auth-token": "abc",
      "x-access-token": "def",
      "x-upstream": "https://svc:pw@internal.example/api",
      "user-agent": "curl/8",
    },
    requestContext: { http: { method: "GET", path: "/callback" } },
  };
  const { event: recorded, redacted } = redactEvent(event);
  t.deepEqual(recorded, {
    ...event,
    rawQueryString: "code=%5Bredacted%5D&access_token=%5Bredacted%5D&state=xyz&limit=5",
    queryStringParameters: { code: "[redacted]", access_token: "[redacted]", state: "xyz", limit: "5" },
    headers: {
      "x-auth-token": "[redacted]",
      "x-access-token": "[redacted]",
      "x-upstream": "https://[redacted]@internal.example/api",
      "user-agent": "curl/8",
    },
  });
  t.deepEqual(redacted, [
    "headers.x-auth-token",
    "headers.x-access-token",
    "headers.x-upstream",
    "queryStringParameters.code",
    "queryStringParameters.access_token",
    "rawQueryString",
  ]);
});

test("a REST API event: the API key in requestContext.identity and multi-value token parameters", (t) => {
  const event = {
    httpMethod: "GET",
    path: "/orders",
    headers: { "x-api-key": "key-1" },
    multiValueQueryStringParameters: { id_token: ["a", "b"], page: ["2"] },
    requestContext: {
      stage: "prod",
      identity: { apiKey: "key-1", apiKeyId: "kid", sourceIp: "203.0.113.7" },
    },
  };
  const { event: recorded, redacted } = redactEvent(event);
  t.deepEqual(recorded, {
    ...event,
    headers: { "x-api-key": "[redacted]" },
    multiValueQueryStringParameters: { id_token: ["[redacted]", "[redacted]"], page: ["2"] },
    requestContext: {
      stage: "prod",
      identity: { apiKey: "[redacted]", apiKeyId: "kid", sourceIp: "203.0.113.7" },
    },
  });
  t.deepEqual(redacted, [
    "headers.x-api-key",
    "multiValueQueryStringParameters.id_token",
    "requestContext.identity.apiKey",
  ]);
  t.is(event.requestContext.identity.apiKey, "key-1");
});
