/**
 * `npm run chaos`: the chaos suite. Relay stubs send thousands of invocations of mixed sizes and kinds to
 * sessions through a fault-injecting proxy, with takeovers, restarts and `kill -9` mixed in, once against
 * aedes and once against mosquitto; then the invariants are checked and the counts printed.
 *
 *   node dist/test/chaos/run.js [--seed N] [--long] [--invocations N] [--broker aedes|mosquitto]
 *
 * Exits 1 when an invariant broke (or mosquitto is missing where CI requires it), 0 otherwise.
 */
import { Random } from "./random";
import { mosquittoAvailable, type BrokerName } from "./brokers";
import { runScenario, type ScenarioResult } from "./scenario";

interface Args {
  seed: number;
  long: boolean;
  invocations?: number;
  brokers: BrokerName[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seed: Date.now() % 2147483647, long: false, brokers: ["aedes", "mosquitto"] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (flag === "--seed") args.seed = Number(value());
    else if (flag === "--long") args.long = true;
    else if (flag === "--invocations") args.invocations = Number(value());
    else if (flag === "--broker") args.brokers = [value() as BrokerName];
    else
      throw new Error(
        `Unknown option ${flag}. Options: --seed N, --long, --invocations N, --broker aedes|mosquitto`,
      );
  }
  if (!Number.isInteger(args.seed) || args.seed < 0) throw new Error("--seed takes a whole number ≥ 0");
  return args;
}

function report(r: ScenarioResult): string {
  const failed = Object.entries(r.failed)
    .map(([code, n]) => `${code} ${n}`)
    .join(", ");
  const faults = Object.entries(r.faults)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  return [
    `${r.broker}: ${r.invocations} invocations in ${r.seconds} s`,
    `  faults injected   ${faults}`,
    `  lifecycle         ${r.lifecycle.sessions} sessions; ${r.lifecycle.takeovers} takeovers, ${r.lifecycle.restarts} restarts, ${r.lifecycle.kills} kill -9`,
    `  answered          ${r.answered}`,
    `  failed clearly    ${r.invocations - r.answered - r.lost.length}${failed ? ` (${failed})` : ""}`,
    `  run twice         ${r.ranTwice.length} (must be 0)${r.ranTwice.length ? `: ${r.ranTwice.slice(0, 5).join(", ")}` : ""}`,
    `  lost              ${r.lost.length} (must be 0)${r.lost.length ? `: ${r.lost.slice(0, 5).join("; ")}` : ""}`,
    `  memory (peak)     session ${r.peak.sessionRssMB} MB RSS, ${r.peak.heldMB} MB held for incomplete requests, ${r.peak.answersMB} MB of kept answers; stubs' process ${r.peak.stubHeapMB} MB heap`,
    ...r.violations.map((v) => `  VIOLATION         ${v}`),
  ].join("\n");
}

/** Memory a chaos session may reach: far above what it needs (about 200 MB), far below a leak's. */
const MAX_SESSION_RSS_MB = 1024;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  // The stubs run in this process and write what Lambda would keep in the function's log (why an HTTP
  // caller got a 503, connection warnings) to stderr: thousands of lines in a chaos run. Counted, not shown.
  let stubLogLines = 0;
  console.error = () => void stubLogLines++;
  const required = process.env.CI === "true" || process.env.PULUMI_LIVE_REQUIRE_MOSQUITTO === "1";
  const invocations = args.invocations ?? (args.long ? 10_000 : 2_000);
  console.log(
    `chaos: seed ${args.seed} (again: npm run chaos -- --seed ${args.seed}${args.long ? " --long" : ""}), ` +
      `${invocations} invocations per broker`,
  );
  const random = new Random(args.seed);
  let ok = true;
  for (const broker of args.brokers) {
    const forBroker = random.fork();
    if (broker === "mosquitto" && !mosquittoAvailable()) {
      console.log(
        `mosquitto: skipped, not installed (apt-get install -y mosquitto)${required ? " — required here" : ""}`,
      );
      if (required) ok = false;
      continue;
    }
    const result = await runScenario({
      broker,
      random: forBroker,
      invocations,
      environments: 12,
      timeoutMs: 10_000,
      lifecycleEveryMs: args.long ? 8000 : 6000,
    });
    if (result.peak.sessionRssMB > MAX_SESSION_RSS_MB) {
      result.violations.push(
        `a session reached ${result.peak.sessionRssMB} MB (bound ${MAX_SESSION_RSS_MB} MB)`,
      );
    }
    console.log(report(result));
    if (result.violations.length || result.lost.length || result.ranTwice.length) ok = false;
  }
  console.log(`chaos: ${stubLogLines} lines the stubs wrote to their function logs (not shown)`);
  console.log(ok ? "chaos: all invariants held" : `chaos: FAILED (seed ${args.seed})`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(2);
  },
);
