/**
 * The serve side of the serve benchmark, in a process of its own as `pulumi-live serve --local` runs:
 * `startLocalServer` (gateway, broker, builds, worker pool, session, the stub's environment processes)
 * with every default but these: a free port, 16 environments for the function, a 30 s timeout. Beside it,
 * the baseline: a plain HTTP server in the same process answering the same 1 KB echo.
 *
 * It tells the benchmark of each build (with the time it was reported) and answers memory questions.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startLocalServer } from "../cli/commands/serve-local";
import type { Reporter } from "../cli/reporter";
import { now, type HostCommand, type HostConfig, type HostMessage } from "./serve-messages";

function send(message: HostMessage): void {
  process.send?.(message);
}

const ignore = (): void => undefined;

async function main(): Promise<void> {
  const config = JSON.parse(process.env.PULUMI_LIVE_BENCH_HOST ?? "{}") as HostConfig;
  const reporter: Reporter = {
    ready: ignore,
    build: (e) => send({ type: "build", ok: e.ok, at: now(), durationMs: e.durationMs }),
    log: ignore,
    error: (e) => process.stderr.write(`serve error: ${e.message}\n`),
    summary: ignore,
    invoke: ignore,
    result: ignore,
    drop: (e) => process.stderr.write(`serve dropped a message: ${e.reason}\n`),
    status: ignore,
    takeover: ignore,
  };
  const server = await startLocalServer({
    functions: ["bench=src/handler.handler"],
    cwd: config.dir,
    port: 0,
    timeoutSeconds: 30,
    maxEnvironments: config.environments,
    ...(config.noRecord ? { record: false as const } : {}),
    reporter,
  });
  const plain = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
  const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  process.on("message", (command: HostCommand) => {
    if (command.type === "memory") {
      if (command.gc) (globalThis as { gc?: () => void }).gc?.();
      const { heapUsed, rss, heapTotal } = process.memoryUsage();
      send({ type: "memory", heapUsed, rss, heapTotal, keptAnswers: server.session.remembered.answerBytes });
      return;
    }
    plain.close();
    plain.closeAllConnections();
    void server.close().finally(() => process.exit(0));
  });
  send({ type: "ready", gateway: server.gateway, plain: plainUrl });
}

main().catch((error: unknown) => {
  send({ type: "failed", error: String((error as Error)?.stack ?? error) });
  process.exit(1);
});
