/**
 * One `serve` of the chaos run, in a process of its own so it can be killed with SIGKILL: the real local
 * runtime (esbuild build, worker threads) and the real `Session` on an MQTT connection through the fault
 * proxy. It tells the orchestrator over IPC when it serves, when it was taken over (then it closes and
 * exits, as `serve` does), and how much memory it holds. It exits on its own for no other reason.
 *
 * Settings come as JSON in CHAOS_SESSION (see `SessionSettings`).
 *
 * This is the session as `serve` (stack mode) and `serve --local --broker URL` connect it, over a socket
 * (aws-crt). `serve --local` with its embedded broker connects in process instead, which no proxy can
 * reach: `test/local/in-process-faults.test.ts` puts the faults on that link.
 */
import { jsonReporter } from "../../cli/reporter";
import { startLocalRuntime } from "../../cli/commands/local-runtime";
import { MqttConnection } from "../../cli/mqtt-connection";
import { Session } from "../../cli/session";
import { clientId } from "../../protocol";
import { BROKER_USER } from "../../cli/local/broker";
import { Teardown } from "../../cli/teardown";

export interface SessionSettings {
  url: string;
  password?: string;
  key: string;
  prefix: string;
  sessionClientPrefix: string;
  root: string;
  file: string;
  keepAliveSeconds: number;
  presenceCheckMs: number;
}

/** What a session process tells the orchestrator. */
export type SessionReport =
  | { type: "serving"; sessionId: string; epoch: number }
  | { type: "takeover"; sessionId: string; by: string }
  | { type: "state"; sessionId: string; phase: string; rss: number; heldBytes: number; remembered: number }
  | { type: "failed"; message: string };

const send = (report: SessionReport) => process.send?.(report);

async function main(): Promise<void> {
  const settings = JSON.parse(process.env.CHAOS_SESSION ?? "{}") as SessionSettings;
  const cleanup = new Teardown();
  // Events are not printed: a chaos run makes thousands; the orchestrator counts outcomes itself.
  const reporter = jsonReporter(() => undefined);
  const runtime = await startLocalRuntime({
    functions: [{ name: "chaos", functionId: "chaos", file: settings.file, exportName: "handler" }],
    root: settings.root,
    watch: false,
    concurrency: 8,
    record: false,
    reporter,
    cleanup,
  });
  let session: Session | undefined = undefined;
  const events = {
    ...reporter,
    takeover: (e: { sessionId: string }) => {
      send({ type: "takeover", sessionId: session!.sessionId, by: e.sessionId });
      // As `serve` does: say so, then close and leave the stack to the newer session.
      void session!
        .close()
        .then(() => cleanup.run(() => undefined))
        .finally(() => process.exit(0));
    },
  };
  session = new Session({
    key: Buffer.from(settings.key, "base64"),
    prefix: settings.prefix,
    functions: runtime.served,
    runner: runtime.pool,
    events,
    presenceCheckMs: settings.presenceCheckMs,
    connect: (will, suffix) =>
      MqttConnection.connect({
        target: {
          kind: "broker",
          url: settings.url,
          ...(settings.password ? { username: BROKER_USER, password: settings.password } : {}),
        },
        clientId: clientId(settings.sessionClientPrefix, suffix),
        will,
        keepAliveSeconds: settings.keepAliveSeconds,
      }),
  });
  await session.start();
  send({ type: "serving", sessionId: session.sessionId, epoch: session.epoch });
  process.on("message", (message: { type: string }) => {
    if (message?.type !== "state" || !session) return;
    send({
      type: "state",
      sessionId: session.sessionId,
      phase: session.phase,
      rss: process.memoryUsage.rss(),
      heldBytes: session.heldBytes,
      remembered: session.remembered.answerBytes,
    });
  });
  // SIGINT as Ctrl+C: a graceful restart.
  process.once("SIGINT", () => {
    void session
      .close()
      .then(() => cleanup.run(() => undefined))
      .finally(() => process.exit(0));
  });
}

main().catch((error: Error) => {
  send({ type: "failed", message: error.stack ?? String(error) });
  process.exit(1);
});
