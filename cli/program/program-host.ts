/**
 * The child process that runs a Pulumi program the way `pulumi up` would start it — its entry file,
 * TypeScript compiled on load, a function export called, inside the root stack — against a local engine
 * (`local-engine.ts`) whose providers are local mode's mocks, and reports every resource it registered.
 * A child of its own, so a program that hangs or crashes cannot take `serve` down. Started by
 * `run-program.ts`; speaks `host-messages.ts` over IPC.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { moduleFormat } from "../../core/handler";
import type { HostInput, HostReport, ProgramErrorReport, RecordedResource } from "./host-messages";
import { startLocalEngine, type EngineLog, type EngineRegistration, type LocalEngine } from "./local-engine";
import { mockCall, mockState } from "./mock-outputs";
import { registerTypeScript, TranspileError } from "./typescript-hook";
import { FUNCTION_TYPE } from "../../core/names";

function report(message: HostReport): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

function errorReport(error: unknown): ProgramErrorReport {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const e = error as Error & { code?: unknown };
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    ...(typeof e.code === "string" ? { code: e.code } : {}),
    ...(error instanceof TranspileError ? { location: error.location } : {}),
  };
}

/** JSON-safe copy: buffers, assets and archives (a function's code) become a marker; cycles cut. */
function plain(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return typeof value === "function" ? "[function]" : value;
  if (depth > 12 || Buffer.isBuffer(value)) return "[binary]";
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1));
  const record = value as Record<string, unknown>;
  if ("assets" in record || ("path" in record && "hash" in record)) return "[archive]";
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(record))
    if (k !== "code" && k !== "__provider") out.set(k, plain(v, depth + 1));
  return Object.fromEntries(out);
}

/** Lookups the mocks could not answer, reported with a failure too: they often cause it. */
const unknownCalls = new Set<string>();

/** How the SDK would print a log message without an engine: in the output kept for a failure's report. */
function printLog(log: EngineLog): void {
  if (log.severity === "debug") return;
  const line = `${log.severity}: ${log.message}\n`;
  if (log.severity === "info") process.stdout.write(line);
  else process.stderr.write(line);
}

/** The program's module, as the Pulumi CLI's Node.js host loads it: its exports or its function's result. */
async function runMain(input: HostInput, requireHere: NodeJS.Require): Promise<unknown> {
  let exported: unknown;
  if (moduleFormat(input.main) === "esm" && !/\.[cm]?ts$/.test(input.main)) {
    exported = await import(pathToFileURL(input.main).href);
    exported = (exported as { default?: unknown }).default ?? exported;
  } else {
    exported = requireHere(input.main);
  }
  // A program whose module exports a function is that function's result.
  const entry = typeof exported === "function" ? exported : (exported as { default?: unknown })?.default;
  return typeof entry === "function" ? await (entry as () => unknown)() : exported;
}

async function run(input: HostInput): Promise<void> {
  process.setSourceMapsEnabled(true);
  if (input.typescript) registerTypeScript();
  const requireHere = createRequire(path.join(input.root, "noop.js"));
  const ctx = { region: input.region, account: input.account, gatewayUrl: input.gatewayUrl };
  const engine: LocalEngine = await startLocalEngine({
    project: input.project,
    stack: input.stack,
    // The program's own @pulumi/pulumi: the one its resources register through.
    sdkFrom: input.root,
    onLog: printLog,
    providers: {
      newResource(args) {
        const parent = engine.registrations.find((r) => r.urn === args.parent);
        const owner =
          parent?.type === FUNCTION_TYPE && args.type === "aws:lambda/function:Function"
            ? parent.name
            : undefined;
        const inputs = unwrapSecrets(engine.sdk, args.inputs) as Record<string, unknown>;
        const { id, state } = mockState(args.type, args.name, inputs, ctx, owner);
        return { id: args.custom ? id : undefined, state };
      },
      call(args) {
        const result = mockCall(args.token, ctx);
        if (result) return result;
        unknownCalls.add(args.token);
        return {};
      },
    },
  });
  engine.connect({ config: input.config, secretKeys: input.secretKeys });
  // As `pulumi up` runs it: inside the root stack, whose outputs are what the module exports.
  await engine.sdk.runtime.runInPulumiStack(() => runMain(input, requireHere));
  await engine.settle();
  await engine.close();
  // A rejection the program left unhandled in its last callbacks surfaces before the run counts as done.
  await new Promise((resolve) => setImmediate(resolve));
  const resources = engine.registrations.map((r) => recorded(engine, r));
  await report({ type: "done", resources, unknownCalls: [...unknownCalls] });
}

/** A registration as local mode reads it: a top-level resource has no parent. */
function recorded(engine: LocalEngine, r: EngineRegistration): RecordedResource {
  const parent = r.parent && r.parent !== engine.root.urn ? r.parent : undefined;
  return {
    urn: r.urn,
    type: r.type,
    name: r.name,
    ...(parent ? { parent } : {}),
    custom: r.custom,
    inputs: plain(unwrapSecrets(engine.sdk, r.inputs)) as Record<string, unknown>,
    state: plain(r.state) as Record<string, unknown>,
    ...(r.rawOutputs
      ? { outputs: plain(unwrapSecrets(engine.sdk, r.rawOutputs)) as Record<string, unknown> }
      : {}),
  };
}

function unwrapSecrets(pulumi: typeof import("@pulumi/pulumi"), value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => unwrapSecrets(pulumi, v));
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig)
      return unwrapSecrets(pulumi, record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(pulumi, v)]));
  }
  return value;
}

let failed = false;
const fail = (error: unknown): void => {
  if (failed) return;
  failed = true;
  void report({ type: "failed", error: errorReport(error), unknownCalls: [...unknownCalls] }).finally(() =>
    process.exit(1),
  );
};
// Errors of the program that escape it (a rejected apply, a throw in a callback) fail the run too.
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);
process.once("message", (input: HostInput) => {
  run(input).then(
    () => process.exit(0),
    (error: unknown) => fail(error),
  );
});
