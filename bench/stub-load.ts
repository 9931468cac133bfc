import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { randomText } from "./payload";
import { createRelay, type Relay } from "../stub/relay";
import type { StubConfig } from "../stub/config";
import type { LambdaContext } from "../stub/lambda-context";

/**
 * The stub side of the relay benchmark, in its own process as the stub is in Lambda: N relays (one per
 * execution environment), driven by messages from the benchmark process.
 */
export type LoadCommand =
  | { type: "sequential"; count: number; bytes: number }
  | {
      type: "concurrent";
      environments: number;
      seconds: number;
      bytes: number;
      /** Seconds of the same load before the measured ones, whose completions per second are told apart. */
      warmSeconds?: number;
    }
  | { type: "big"; count: number; bytes: number }
  | { type: "close" };

export type LoadConfig = Omit<StubConfig, "key"> & { key: string };

function context(name: string): LambdaContext {
  const deadline = Date.now() + 60_000;
  return {
    awsRequestId: randomUUID(),
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: "128",
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "bench",
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

/** A failed load run ends this process with the error, which the parent reports. */
function fail(error: unknown): never {
  process.stderr.write(`stub load failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
}

function main(): void {
  const config = JSON.parse(process.env.PULUMI_LIVE_BENCH_CONFIG!) as LoadConfig;
  const stub: StubConfig = { ...config, key: Buffer.from(config.key, "base64") };
  const relays: Relay[] = [];
  const relay = (i: number) =>
    (relays[i] ??= createRelay(stub, { envId: `bench${i}`, log: () => undefined }));
  const call = (i: number, event: unknown) => relay(i).handle(event, context(stub.functionId));
  const run = async (command: LoadCommand) => {
    if (command.type === "close") {
      await Promise.allSettled(relays.map((r) => r.close()));
      process.exit(0);
    }
    const event = { data: randomText(command.bytes) };
    const times: number[] = [];
    if (command.type === "sequential" || command.type === "big") {
      for (let i = 0; i < command.count; i++) {
        const t0 = performance.now();
        await call(0, event);
        times.push(performance.now() - t0);
      }
      process.send!({ times });
      return;
    }
    for (let i = 0; i < command.environments; i++) await call(i, event);
    /** Runs every environment back to back for `seconds`; completions per whole second of it. */
    const drive = async (seconds: number) => {
      const t0 = performance.now();
      const stopAt = t0 + seconds * 1000;
      let done = 0;
      const windows = Array.from({ length: Math.floor(seconds) }, () => 0);
      await Promise.all(
        Array.from({ length: command.environments }, async (_, i) => {
          while (performance.now() < stopAt) {
            await call(i, event);
            done++;
            const second = Math.floor((performance.now() - t0) / 1000);
            if (second < windows.length) windows[second]++;
          }
        }),
      );
      return { rate: done / ((performance.now() - t0) / 1000), windows };
    };
    const warm = command.warmSeconds ? await drive(command.warmSeconds) : undefined;
    const measured = await drive(command.seconds);
    process.send!({ ...measured, warmWindows: warm?.windows ?? [] });
  };
  process.on("message", (command: LoadCommand) => void run(command).catch(fail));
  process.send!({ ready: true });
}

main();
