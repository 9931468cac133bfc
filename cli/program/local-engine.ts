/**
 * A local Pulumi engine: serves a program Pulumi's public engine protocol over gRPC on 127.0.0.1 — the
 * `pulumirpc.ResourceMonitor` service (`engine-monitor.ts`) and the `pulumirpc.Engine` service (logs,
 * the root resource) — exactly what the Pulumi CLI serves a program it runs, with the cloud replaced
 * by `EngineProviders` (ids, state and function results, as Pulumi's `Mocks` give them). It records
 * every registration as the engine saw it. Used by local mode's program run (`program-host.ts`) and by
 * the tests' mocked runs.
 *
 * A program reaches it in its own process the way Pulumi's Automation API runs an inline program:
 * `connect()` points the SDK at the engine (`pulumi.runtime.resetOptions`, `setAllConfig`); the
 * program runs in `pulumi.runtime.runInPulumiStack`; `settle()` is the SDK's `disconnect()`, which
 * returns once every RPC the program started has been answered.
 */
import * as grpc from "@grpc/grpc-js";
import type * as engineMessages from "@pulumi/pulumi/proto/engine_pb";
import { loadEngineProtocol, type EngineProtocol } from "./engine-protocol";
import { monitorService, type MonitorState } from "./engine-monitor";

/** What a provider is asked to create or read (Pulumi's `MockResourceArgs`). */
export interface ResourceRequest {
  type: string;
  name: string;
  /** Inputs as the SDK deserializes them: secrets wrapped, assets and archives as objects. */
  inputs: Record<string, any>;
  custom: boolean;
  /** The parent's URN (the root stack's for a resource at top level). */
  parent: string;
  /** The explicit provider's reference, "" for the default one. */
  provider: string;
  /** The id to import or read. */
  id?: string;
}

/** What stands in for the cloud: how each resource and function answers. */
export interface EngineProviders {
  /** A resource's id (custom resources) and state. */
  newResource(
    request: ResourceRequest,
  ): { id?: string; state: Record<string, any> } | Promise<{ id?: string; state: Record<string, any> }>;
  /** A function's result (`Invoke`, or a component method's `Call`); throw for one that has no answer. */
  call(request: {
    token: string;
    inputs: Record<string, any>;
    provider: string;
  }): Record<string, any> | Promise<Record<string, any>>;
}

/** One registered resource as the engine saw it. */
export interface EngineRegistration {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  /** What the provider gave (custom resources); "" for components. */
  id: string;
  /** The parent's URN; the root stack's for a resource the program created at top level. */
  parent: string;
  provider: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  additionalSecretOutputs: string[];
  /** Inputs in Pulumi's wire form, as the program sent them: secrets and archives carry their signatures. */
  rawInputs: Record<string, any>;
  /** The same inputs as the provider saw them (`ResourceRequest.inputs`). */
  inputs: Record<string, any>;
  /** What the provider answered. */
  state: Record<string, any>;
  /** Registered outputs in wire form (components), once the program registered them. */
  rawOutputs?: Record<string, any>;
}

export interface EngineLog {
  severity: "debug" | "info" | "warning" | "error";
  message: string;
  /** The resource it is about, if any. */
  urn: string;
}

export interface LocalEngineOptions {
  project: string;
  stack: string;
  providers: EngineProviders;
  /** Each log message of the program (`pulumi.log`), as the Pulumi CLI would show it. */
  onLog?: (log: EngineLog) => void;
  /** The folder whose `@pulumi/pulumi` the program uses (its project's root). @default pulumi-live's own */
  sdkFrom?: string;
}

export interface ConnectOptions {
  /** @default "" (none: `pulumi.getOrganization()` throws, as for a program without one) */
  organization?: string;
  /** Namespaced stack config (`project:key`). */
  config?: Record<string, string>;
  secretKeys?: string[];
  /** A preview (`pulumi preview`) rather than an update. @default false */
  dryRun?: boolean;
}

export interface LocalEngine {
  /** `127.0.0.1:port`, serving both the resource monitor and the engine. */
  address: string;
  /** The program's resources in the order their registrations were answered; the root stack is apart. */
  registrations: EngineRegistration[];
  /** The root stack's URN once registered, and its outputs (wire form) once registered. */
  root: { urn?: string; rawOutputs?: Record<string, any> };
  logs: EngineLog[];
  /** The SDK the engine was loaded from (the program's). */
  sdk: EngineProtocol["sdk"];
  /** Points this process's Pulumi SDK at the engine, with the stack's settings and config. */
  connect(options?: ConnectOptions): void;
  /** Resolves once every RPC the program started has been answered; disconnects the SDK. */
  settle(): Promise<void>;
  /** Stops serving; idempotent. */
  close(): Promise<void>;
}

const SEVERITIES: Record<number, EngineLog["severity"]> = { 0: "debug", 1: "info", 2: "warning", 3: "error" };
// The SDK sends whole archives inline (a function's code); the Pulumi CLI allows the same size.
const MAX_MESSAGE = 400 * 1024 * 1024;
const CLOSE_GRACE_MS = 1000;

export async function startLocalEngine(options: LocalEngineOptions): Promise<LocalEngine> {
  const protocol = loadEngineProtocol(options.sdkFrom);
  const { sdk, engine, empty } = protocol;
  const state: MonitorState = { project: options.project, stack: options.stack, registrations: [], root: {} };
  const logs: EngineLog[] = [];
  let rootUrn = "";

  const server = new grpc.Server({
    "grpc.max_receive_message_length": MAX_MESSAGE,
    "grpc.max_send_message_length": MAX_MESSAGE,
  });
  server.addService(
    protocol.resourceGrpc.ResourceMonitorService,
    monitorService(protocol, options.providers, state),
  );
  const engineService: grpc.UntypedServiceImplementation = {
    log: (
      call: grpc.ServerUnaryCall<engineMessages.LogRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const req = call.request;
      const entry: EngineLog = {
        severity: SEVERITIES[req.getSeverity()] ?? "info",
        message: req.getMessage(),
        urn: req.getUrn(),
      };
      logs.push(entry);
      try {
        options.onLog?.(entry);
      } catch {
        // A failing log sink must not fail the program's RPC.
      }
      callback(null, new empty.Empty());
    },
    getRootResource: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      const response = new engine.GetRootResourceResponse();
      response.setUrn(rootUrn);
      callback(null, response);
    },
    setRootResource: (
      call: grpc.ServerUnaryCall<engineMessages.SetRootResourceRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      rootUrn = call.request.getUrn();
      callback(null, new engine.SetRootResourceResponse());
    },
  };
  server.addService(protocol.engineGrpc.EngineService, engineService);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const address = `127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;

  return {
    address,
    registrations: state.registrations,
    root: state.root,
    logs,
    sdk,
    connect(connectOptions = {}) {
      // The SDK's clients of an earlier engine, if any, are not reused.
      sdk.runtime.disconnectSync();
      // `parallel` -1: the SDK serializes resource operations only when told 1; this engine sets no limit.
      sdk.runtime.resetOptions(
        options.project,
        options.stack,
        -1,
        address,
        address,
        connectOptions.dryRun ?? false,
        connectOptions.organization ?? "",
      );
      sdk.runtime.setAllConfig(connectOptions.config ?? {}, connectOptions.secretKeys);
    },
    settle: () => sdk.runtime.disconnect(),
    close() {
      // Calls in flight get a moment to be answered; a program still calling after that sees its
      // calls fail, as when `pulumi` stops.
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, CLOSE_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
  };
}
