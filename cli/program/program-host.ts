/**
 * The child process that runs a Pulumi program the way `pulumi up` would start it — its entry file,
 * TypeScript compiled on load, a function export called — under Pulumi's mocks, and reports every
 * resource it registered. A child of its own, so a program that hangs or crashes cannot take `serve`
 * down. Started by `run-program.ts`; speaks `host-messages.ts` over IPC.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { moduleFormat } from "../../core/handler";
import type { HostInput, HostReport, ProgramErrorReport, RecordedResource } from "./host-messages";
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

/** The name at the end of a URN (`urn:pulumi:stack::project::type::name`). */
function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** What is read of the engine protocol's requests (Pulumi's resource monitor, as its mocks serve it). */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
}
interface OutputsRequest {
  getUrn(): string;
  getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}
type Callback<R> = (err: unknown, res: R) => void;
interface MockedMonitor {
  registerResource(req: RegisterRequest, callback: Callback<{ getUrn(): string }>): unknown;
  registerResourceOutputs(req: OutputsRequest, callback: Callback<unknown>): unknown;
}

/** Lookups the mocks could not answer, reported with a failure too: they often cause it. */
const unknownCalls = new Set<string>();

async function run(input: HostInput): Promise<void> {
  process.setSourceMapsEnabled(true);
  if (input.typescript) registerTypeScript();
  const requireHere = createRequire(path.join(input.root, "noop.js"));
  const pulumi = requireHere("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const settings = requireHere("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  const parents = new Map<string, { parent: string; parentType?: string }>();
  const byUrn = new Map<string, RecordedResource>();
  const pending = new Map<string, { inputs: Record<string, unknown>; state: Record<string, unknown> }>();
  const types = new Map<string, string>(); // urn → type, for owners
  const ctx = { region: input.region, account: input.account, gatewayUrl: input.gatewayUrl };

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const key = `${args.type}\u0000${args.name}`;
        const parentUrn = parents.get(key)?.parent ?? "";
        const owner =
          types.get(parentUrn) === FUNCTION_TYPE && args.type === "aws:lambda/function:Function"
            ? urnName(parentUrn)
            : undefined;
        const inputs = unwrapSecrets(pulumi, args.inputs ?? {}) as Record<string, unknown>;
        const { id, state } = mockState(args.type, args.name, inputs, ctx, owner);
        pending.set(key, { inputs, state });
        return { id: args.custom ? id : undefined, state };
      },
      call(args) {
        const result = mockCall(args.token, ctx);
        if (result) return result;
        unknownCalls.add(args.token);
        return {};
      },
    },
    input.project,
    input.stack,
    false,
  );
  pulumi.runtime.setAllConfig(input.config, input.secretKeys);

  const monitor = pulumi.runtime.getMonitor() as unknown as MockedMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const key = `${req.getType()}\u0000${req.getName()}`;
    parents.set(key, { parent: req.getParent() });
    return register(req, (err, res) => {
      if (!err) {
        const seen = pending.get(key);
        const urn = res.getUrn();
        types.set(urn, req.getType());
        byUrn.set(urn, {
          urn,
          type: req.getType(),
          name: req.getName(),
          ...(req.getParent() ? { parent: req.getParent() } : {}),
          custom: req.getCustom(),
          inputs: plain(seen?.inputs ?? {}) as Record<string, unknown>,
          state: plain(seen?.state ?? {}) as Record<string, unknown>,
        });
      }
      callback(err, res);
    });
  };
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, callback) => {
    const found = byUrn.get(req.getUrn());
    if (found)
      found.outputs = plain(unwrapSecrets(pulumi, req.getOutputs()?.toJavaScript() ?? {})) as Record<
        string,
        unknown
      >;
    return registerOutputs(req, callback);
  };

  let exported: unknown;
  if (moduleFormat(input.main) === "esm" && !/\.[cm]?ts$/.test(input.main)) {
    exported = await import(pathToFileURL(input.main).href);
    exported = (exported as { default?: unknown }).default ?? exported;
  } else {
    exported = requireHere(input.main);
  }
  // As Pulumi's Node.js host: a program whose module exports a function is that function's result.
  const entry = typeof exported === "function" ? exported : (exported as { default?: unknown })?.default;
  if (typeof entry === "function") await (entry as () => unknown)();
  await settings.waitForRPCs();
  await report({ type: "done", resources: [...byUrn.values()], unknownCalls: [...unknownCalls] });
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
