import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** Handlers of the end-to-end tests, written as a small TypeScript project in a temp folder. */
export const HANDLERS: Record<string, string> = {
  "src/echo.ts": `import { createHash } from "node:crypto";
export const handler = async (event: unknown, context: any) => {
  const json = JSON.stringify(event);
  return {
    bytes: Buffer.byteLength(json),
    sha256: createHash("sha256").update(json).digest("hex"),
    requestId: context.awsRequestId,
    functionName: context.functionName,
    remainingPositive: context.getRemainingTimeInMillis() > 0,
  };
};
`,
  "src/api.ts": `export const handler = async (event: any) => {
  console.log("api got", event.rawPath);
  return {
    statusCode: 201,
    headers: { "x-live": "yes" },
    cookies: ["session=abc; Path=/"],
    body: JSON.stringify({ method: event.requestContext.http.method, path: event.rawPath, query: event.queryStringParameters, body: event.body }),
  };
};
`,
  "src/sqs.ts": `export function handler(event: any, _context: unknown, callback: (error: unknown, result?: unknown) => void) {
  const failures = event.Records.filter((r: any) => r.body === "fail").map((r: any) => ({ itemIdentifier: r.messageId }));
  callback(null, { batchItemFailures: failures });
}
`,
  "src/fail.ts": `class ValidationError extends Error {
  override name = "ValidationError";
}
function check(input: { ok?: boolean }) {
  if (!input.ok) {
    throw new ValidationError("input is not ok");
  }
}
export const handler = async (event: { ok?: boolean }) => {
  check(event);
  return "fine";
};
`,
  "src/spin.ts": `export const handler = async () => {
  for (;;) {
    // loops until the deadline ends it
  }
};
`,
  "src/big.ts": `import { randomBytes } from "node:crypto";
export const handler = async (event: { bytes: number }) => randomBytes(Math.floor((event.bytes * 3) / 4)).toString("base64");
`,
  "src/env.ts": `export const handler = async () => {
  const pick = ["PULUMI_LIVE", "IS_LOCAL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "CUSTOM_SETTING", "PULUMI_LIVE_KEY"];
  return Object.fromEntries(pick.map((name) => [name, process.env[name] ?? null]));
};
`,
  "src/count.ts": `import { appendFileSync } from "node:fs";
export const handler = async (event: { tag: string; waitMs?: number }) => {
  appendFileSync(process.env.COUNT_FILE!, event.tag + "\\n");
  await new Promise((resolve) => setTimeout(resolve, event.waitMs ?? 0));
  return { tag: event.tag };
};
`,
  "src/edit.ts": `export const handler = async () => "version 1";
`,
};

export async function writeProject(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "pulumi-live-e2e-"));
  for (const [file, text] of Object.entries(HANDLERS)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  return dir;
}

export const FUNCTIONS = Object.keys(HANDLERS).map(
  (file) => `${path.basename(file, ".ts")}=${file.slice(0, -3)}.handler`,
);
