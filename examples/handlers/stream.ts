/**
 * A streaming handler behind a function URL in `RESPONSE_STREAM` mode: server-sent events, one every
 * 100 ms, written as they come. Its `LiveFunction` says `streaming: true`. `awslambda` is the global of
 * Lambda's Node.js runtime (and of pulumi-live's workers); `@types/aws-lambda` declares it.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const handler = awslambda.streamifyResponse(
  async (event: APIGatewayProxyEventV2, responseStream): Promise<void> => {
    const stream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 200,
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
    const count = Number(event.queryStringParameters?.count ?? 5);
    for (let i = 1; i <= count; i++) {
      stream.write(`data: ${JSON.stringify({ tick: i, of: count })}\n\n`);
      await sleep(100);
    }
    stream.end();
  },
);
