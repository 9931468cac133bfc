/** Shape of the parts of a function URL (API Gateway v2) event this handler reads. */
interface HttpEvent {
  rawPath?: string;
  queryStringParameters?: Record<string, string | undefined> | null;
}

interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * HTTP handler behind a function URL: `GET /?name=Ada` answers
 * `{"greeting":"Hello, Ada!","time":"<ISO time>"}`.
 */
export async function handler(event: HttpEvent): Promise<HttpResult> {
  const name = event.queryStringParameters?.name?.trim() || "world";
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ greeting: `Hello, ${name}!`, time: new Date().toISOString() }),
  };
}
