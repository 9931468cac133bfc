/**
 * The local engine's `pulumirpc.ResourceMonitor` service: what a Pulumi program calls to register
 * resources, their outputs, and to invoke functions. Each registration is answered by the engine's
 * providers (ids and state, as Pulumi's `Mocks` give them) and recorded with everything the engine saw:
 * parent, dependencies, property dependencies, the raw wire-form inputs, additional secret outputs and,
 * later, registered outputs. Methods not here answer UNIMPLEMENTED (the SDK asks `SupportsFeature` first).
 */
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type * as resourceMessages from "@pulumi/pulumi/proto/resource_pb";
import {
  ENGINE_FEATURES,
  resourceUrn,
  ROOT_STACK_TYPE,
  type EngineProtocol,
  type Struct,
} from "./engine-protocol";
import type { EngineProviders, EngineRegistration } from "./local-engine";

/** What the monitor shares with the rest of the engine. */
export interface MonitorState {
  project: string;
  stack: string;
  /** Program resources in the order their registrations were answered (the root stack is apart). */
  registrations: EngineRegistration[];
  /** The root stack: its URN once registered, its outputs once the program ends. */
  root: { urn?: string; rawOutputs?: Record<string, unknown> };
}

type Unary<Req> = grpc.handleUnaryCall<Req, unknown>;

/** A gRPC error carrying the message of what failed, as a provider's error reaches the program. */
function failure(error: unknown): grpc.ServiceError {
  const message = error instanceof Error ? error.message : String(error);
  return Object.assign(new Error(message), {
    code: grpc.status.UNKNOWN,
    details: message,
    metadata: new grpc.Metadata(),
  });
}

/** Answers a unary call with what `work` returns, or with its error. */
function answer<Req>(work: (request: Req) => Promise<unknown>): Unary<Req> {
  return (call, callback) => {
    work(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => callback(failure(error)),
    );
  };
}

export function monitorService(
  protocol: EngineProtocol,
  providers: EngineProviders,
  state: MonitorState,
): grpc.UntypedServiceImplementation {
  const { sdk, resource, provider, struct, empty } = protocol;
  const plain = (value: Struct | undefined): Record<string, unknown> =>
    (value?.toJavaScript() as Record<string, unknown> | undefined) ?? {};
  // What the SDK deserializes from the wire: Pulumi's mocks see inputs this way (secrets wrapped, assets as objects).
  const deserialize = (value: Struct | undefined) =>
    value ? (sdk.runtime.deserializeProperties(value) as Record<string, unknown>) : {};
  const serialize = async (value: Record<string, unknown>) =>
    struct.Struct.fromJavaScript(await sdk.runtime.serializeProperties("", value));
  /** Every resource by URN, registered or read: `pulumi:pulumi:getResource` answers from it. */
  const known = new Map<string, { urn: string; id: string | null; state: Record<string, unknown> }>();
  const packages = new Map<string, string>();
  const urnOf = (parent: string, type: string, name: string) =>
    resourceUrn(state.stack, state.project, parent, type, name);

  const registerResource = async (req: resourceMessages.RegisterResourceRequest) => {
    const [type, name, parent, custom] = [req.getType(), req.getName(), req.getParent(), req.getCustom()];
    const urn = urnOf(parent, type, name);
    const response = new resource.RegisterResourceResponse();
    response.setUrn(urn);
    if (type === ROOT_STACK_TYPE && !parent) {
      state.root.urn = urn;
      response.setObject(new struct.Struct());
      return response;
    }
    const inputs = deserialize(req.getObject());
    const result = await providers.newResource({
      type,
      name,
      inputs,
      custom,
      parent,
      provider: req.getProvider(),
      ...(req.getImportid() ? { id: req.getImportid() } : {}),
    });
    const id = custom ? (result.id ?? "") : "";
    const object = await serialize(result.state);
    known.set(urn, { urn, id: result.id ?? null, state: plain(object) });
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
      propertyDependencies[key] = deps.getUrnsList();
    });
    state.registrations.push({
      urn,
      type,
      name,
      custom,
      id,
      parent,
      provider: req.getProvider(),
      dependencies: req.getDependenciesList(),
      propertyDependencies,
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      rawInputs: plain(req.getObject()),
      inputs,
      state: result.state,
    });
    response.setId(id);
    response.setObject(object);
    return response;
  };

  const registerResourceOutputs = async (req: resourceMessages.RegisterResourceOutputsRequest) => {
    const urn = req.getUrn();
    const outputs = plain(req.getOutputs());
    const found = state.registrations.find((r) => r.urn === urn);
    if (found) found.rawOutputs = outputs;
    else if (urn === state.root.urn) state.root.rawOutputs = outputs;
    else throw new Error(`outputs registered for ${urn}, which was never registered`);
    const entry = known.get(urn);
    if (entry) entry.state = outputs;
    return new empty.Empty();
  };

  const readResource = async (req: resourceMessages.ReadResourceRequest) => {
    const [type, name, parent] = [req.getType(), req.getName(), req.getParent()];
    const result = await providers.newResource({
      type,
      name,
      inputs: deserialize(req.getProperties()),
      custom: true,
      parent,
      provider: req.getProvider(),
      id: req.getId(),
    });
    const urn = urnOf(parent, type, name);
    const object = await serialize(result.state);
    known.set(urn, { urn, id: result.id ?? null, state: plain(object) });
    const response = new resource.ReadResourceResponse();
    response.setUrn(urn);
    response.setProperties(object);
    return response;
  };

  const invoke = async (req: resourceMessages.ResourceInvokeRequest) => {
    const token = req.getTok();
    const inputs = deserialize(req.getArgs());
    const response = new provider.InvokeResponse();
    if (token === "pulumi:pulumi:getResource") {
      // A resource reference the SDK rehydrates: what the engine knows of that URN.
      const found = known.get(String(inputs.urn));
      if (!found) throw new Error(`unknown resource ${String(inputs.urn)}`);
      response.setReturn(struct.Struct.fromJavaScript(found));
      return response;
    }
    const result = await providers.call({ token, inputs, provider: req.getProvider() });
    response.setReturn(await serialize(result));
    return response;
  };

  const call = async (req: resourceMessages.ResourceCallRequest) => {
    const result = await providers.call({
      token: req.getTok(),
      inputs: deserialize(req.getArgs()),
      provider: req.getProvider(),
    });
    const response = new provider.CallResponse();
    response.setReturn(await serialize(result));
    return response;
  };

  const supportsFeature = async (req: resourceMessages.SupportsFeatureRequest) => {
    const response = new resource.SupportsFeatureResponse();
    response.setHassupport(ENGINE_FEATURES.has(req.getId()));
    return response;
  };

  const registerPackage = async (req: resourceMessages.RegisterPackageRequest) => {
    // A parameterized package: the same package and version always get the same reference.
    const key = `${req.getName()}@${req.getVersion()}`;
    if (!packages.has(key)) packages.set(key, randomUUID());
    const response = new resource.RegisterPackageResponse();
    response.setRef(packages.get(key)!);
    return response;
  };

  return {
    registerResource: answer(registerResource),
    registerResourceOutputs: answer(registerResourceOutputs),
    readResource: answer(readResource),
    invoke: answer(invoke),
    call: answer(call),
    supportsFeature: answer(supportsFeature),
    registerPackage: answer(registerPackage),
    // Nothing is deleted here, so there is nothing to wait for.
    signalAndWaitForShutdown: answer(async () => new empty.Empty()),
  };
}
