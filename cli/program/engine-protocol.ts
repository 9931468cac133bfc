/**
 * The parts of Pulumi's engine protocol the local engine speaks, loaded from the `@pulumi/pulumi` the
 * program itself uses: the generated gRPC services and messages (`pulumirpc.ResourceMonitor` and
 * `pulumirpc.Engine`), the protobuf `Struct` they carry values in, and the SDK's own value
 * (de)serialization. Loaded from the program's copy so the wire classes and the values match the SDK
 * that talks to the engine, whichever version the project installed. Also the engine's rules that are
 * pure: the URN of a registration, the features it announces.
 */
import { createRequire } from "node:module";
import path from "node:path";
import type * as pulumiSdk from "@pulumi/pulumi";
import type * as engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import type * as engineMessages from "@pulumi/pulumi/proto/engine_pb";
import type * as providerMessages from "@pulumi/pulumi/proto/provider_pb";
import type * as resourceGrpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import type * as resourceMessages from "@pulumi/pulumi/proto/resource_pb";

/** protobuf's `Struct`, the type of every property map on the wire. */
export type Struct = NonNullable<ReturnType<resourceMessages.RegisterResourceRequest["getObject"]>>;
/** What the engine uses of google-protobuf's `struct_pb` and `empty_pb`. */
interface StructModule {
  Struct: { new (): Struct; fromJavaScript(value: Record<string, unknown>): Struct };
}
interface EmptyModule {
  Empty: new () => object;
}

export interface EngineProtocol {
  /** The SDK the program uses: its `runtime` connects the program and (de)serializes values. */
  sdk: typeof pulumiSdk;
  resourceGrpc: typeof resourceGrpc;
  engineGrpc: typeof engineGrpc;
  resource: typeof resourceMessages;
  provider: typeof providerMessages;
  engine: typeof engineMessages;
  struct: StructModule;
  empty: EmptyModule;
}

/**
 * Loads the protocol from the `@pulumi/pulumi` that `from` (a folder, e.g. the project's root) resolves;
 * without `from`, from pulumi-live's own resolution.
 */
export function loadEngineProtocol(from?: string): EngineProtocol {
  const resolve = from ? createRequire(path.join(from, "noop.js")) : require;
  // google-protobuf as the SDK's generated code resolves it: a second copy would not match its classes.
  const inSdk = createRequire(resolve.resolve("@pulumi/pulumi/package.json"));
  return {
    sdk: resolve("@pulumi/pulumi") as typeof pulumiSdk,
    resourceGrpc: resolve("@pulumi/pulumi/proto/resource_grpc_pb") as typeof resourceGrpc,
    engineGrpc: resolve("@pulumi/pulumi/proto/engine_grpc_pb") as typeof engineGrpc,
    resource: resolve("@pulumi/pulumi/proto/resource_pb") as typeof resourceMessages,
    provider: resolve("@pulumi/pulumi/proto/provider_pb") as typeof providerMessages,
    engine: resolve("@pulumi/pulumi/proto/engine_pb") as typeof engineMessages,
    struct: inSdk("google-protobuf/google/protobuf/struct_pb") as StructModule,
    empty: inSdk("google-protobuf/google/protobuf/empty_pb") as EmptyModule,
  };
}

/** The type of the root resource every `pulumi up` registers first. */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * What the engine says it supports when the SDK asks (`SupportsFeature`), as the Pulumi CLI does for
 * what this engine implements. Not supported, so the SDK refuses them with its own message instead of
 * sending what would be ignored: output values in inputs, transforms (they need the SDK's callback
 * server), resource and error hooks.
 */
export const ENGINE_FEATURES: ReadonlySet<string> = new Set([
  "secrets",
  "resourceReferences",
  "deletedWith",
  "replaceWith",
  "aliasSpecs",
  "parameterization",
]);

/**
 * A resource's URN as the Pulumi engine makes it: `urn:pulumi:<stack>::<project>::<type>::<name>`, the
 * type qualified by its parent's qualified type (`parent$child`), except under the root stack.
 */
export function resourceUrn(
  stack: string,
  project: string,
  parentUrn: string,
  type: string,
  name: string,
): string {
  const parentType = parentUrn ? (parentUrn.split("::")[2] ?? "") : "";
  const qualified = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}
