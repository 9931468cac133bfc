import { createHash, randomUUID } from "node:crypto";

/** A function URL request (payload format 2.0), as Lambda's function URLs send it. */
export function functionUrlEvent(functionUrl: string, query: Record<string, string>) {
  const host = new URL(functionUrl).host;
  const urlId = host.split(".")[0];
  const now = Date.now();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/",
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { host, "user-agent": "curl/8.5.0", accept: "*/*", "x-forwarded-proto": "https" },
    queryStringParameters: query,
    requestContext: {
      accountId: "anonymous",
      apiId: urlId,
      domainName: host,
      domainPrefix: urlId,
      http: {
        method: "GET",
        path: "/",
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: "curl/8.5.0",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
}

/** An SQS batch, as the event source mapping delivers it. */
export function sqsBatchEvent(queueArn: string, bodies: string[]) {
  const region = queueArn.split(":")[3];
  return {
    Records: bodies.map((body, i) => ({
      messageId: `00000000-0000-4000-8000-00000000000${i}`,
      receiptHandle: `AQEB${randomUUID()}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "AIDAEXAMPLE",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: createHash("md5").update(body).digest("hex"),
      eventSource: "aws:sqs",
      eventSourceARN: queueArn,
      awsRegion: region,
    })),
  };
}

/** A scheduled EventBridge event, as a `rate(...)` rule sends it. */
export function scheduledEvent(ruleArn: string, time: string) {
  const [, , , region, account] = ruleArn.split(":");
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account,
    time,
    region,
    resources: [ruleArn],
    detail: {},
  };
}
