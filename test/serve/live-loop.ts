/**
 * The stack-mode loop in one process, as `serve` runs it against a deployed stack: a relay stub with a
 * deployed function's environment, a broker (aedes, standing in for AWS IoT), a session that takes the
 * serving process's own environment, and the local runtime (builds, worker pool). Tests use it to check
 * what a handler sees and how it fails.
 */
import { startBroker } from "../../cli/local/broker";
import { startLocalRuntime } from "../../cli/commands/local-runtime";
import { jsonReporter, type Reporter } from "../../cli/reporter";
import { Session } from "../../cli/session";
import { functionId, generateKey } from "../../protocol";
import { createRelay, type Relay } from "../../stub/relay";
import { lambdaContext } from "../stub/harness";
import { connectTo, quietEvents, testPrefix } from "../session/harness";
import { Teardown } from "../../cli/teardown";

export interface LoopFunction {
  name: string;
  /** Absolute path of the handler's source. */
  file: string;
  exportName: string;
  /** The deployed function's environment, as Lambda gives it to the stub. */
  environment: Record<string, string>;
}

export interface LiveLoop {
  /** Invokes a function through its relay stub, as Lambda would call the stub. */
  invoke(name: string, event: unknown, requestId: string, remainingMs?: number): Promise<unknown>;
  /** Lines the handlers logged. */
  logs: string[];
  close(): Promise<void>;
}

export async function startLiveLoop(options: {
  root: string;
  functions: LoopFunction[];
  localVariables?: Record<string, string>;
  reporter?: Reporter;
}): Promise<LiveLoop> {
  const cleanup = new Teardown();
  const close = () => cleanup.run(() => undefined);
  const logs: string[] = [];
  try {
    const broker = await startBroker({});
    cleanup.add("the broker", () => broker.close());
    const reporter = options.reporter ?? jsonReporter(() => undefined);
    const { served, pool } = await startLocalRuntime({
      functions: options.functions.map((f) => ({ ...f, functionId: functionId(f.name) })),
      root: options.root,
      watch: false,
      concurrency: 4,
      record: false,
      localVariables: options.localVariables,
      reporter: { ...reporter, log: (e) => logs.push(e.line) },
      cleanup,
    });
    const key = generateKey();
    const prefix = testPrefix("loop");
    const session = new Session({
      key,
      prefix,
      functions: served,
      runner: pool,
      events: quietEvents(),
      connect: connectTo(broker.url, "loop", "test"),
    });
    cleanup.add("the session", () => session.close());
    await session.start();
    const relays = new Map<string, Relay>();
    for (const fn of options.functions) {
      const relay = createRelay(
        {
          prefix,
          functionId: functionId(fn.name),
          key,
          clientPrefix: "pulumi-live-loop-",
          stack: "loop/test",
          broker: { kind: "url", url: broker.url },
          ackTimeoutMs: 5000,
        },
        { env: fn.environment, log: () => undefined },
      );
      cleanup.add(`the relay of ${fn.name}`, () => relay.close());
      relays.set(fn.name, relay);
    }
    return {
      logs,
      close,
      invoke(name, event, requestId, remainingMs = 20_000) {
        const relay = relays.get(name);
        if (!relay) throw new Error(`no function ${name}`);
        return relay.handle(event, lambdaContext(requestId, remainingMs));
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
