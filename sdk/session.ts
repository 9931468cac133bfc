import * as pulumi from "@pulumi/pulumi";
import { SESSION_TYPE } from "../core/names";
import type { SessionRecord } from "../core/stack-record";
import { clientIdPrefix, topicPrefix, type StackNamespace } from "../protocol/topics";

/** What the `Session` records besides what its provider makes: where the stack and its endpoint are. */
export interface SessionInputs {
  organization: string;
  project: string;
  stack: string;
  endpoint: string;
  region: string;
  protocolVersion: number;
}

/**
 * The `Session`'s state: its inputs plus what its provider made once and keeps across updates, the session
 * key (base64 of 32 random bytes) and the namespace id (12 hex digits) that makes the stack's topics its own.
 */
export interface SessionOutputs extends SessionInputs {
  key: string;
  namespaceId: string;
}

/**
 * The dynamic provider behind `Session`. Every method is self-contained (`require` inside, no reference to
 * module scope) because Pulumi serializes the provider's code into state and runs it from there later.
 */
export const sessionProvider: pulumi.dynamic.ResourceProvider<SessionInputs, SessionOutputs> = {
  async create(inputs: SessionInputs) {
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const key = crypto.randomBytes(32).toString("base64");
    const namespaceId = crypto.randomBytes(6).toString("hex");
    return { id: crypto.randomUUID(), outs: { ...inputs, key, namespaceId } };
  },

  async diff(_id: string, olds: SessionOutputs, news: SessionInputs) {
    // Every recorded field but what the provider made; a change updates the session in place. A state
    // written by an earlier version (no namespace id yet) is updated, which makes one.
    const fields = ["organization", "project", "stack", "endpoint", "region", "protocolVersion"];
    const changed = fields.filter(
      (field) =>
        (olds as unknown as Record<string, unknown>)[field] !==
        (news as unknown as Record<string, unknown>)[field],
    );
    if (!olds.namespaceId) changed.push("namespaceId");
    // Nothing ever forces a replacement: a new resource would mean a new key and re-deployed stubs.
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id: string, olds: SessionOutputs, news: SessionInputs) {
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const key = olds.key || crypto.randomBytes(32).toString("base64");
    const namespaceId = olds.namespaceId || crypto.randomBytes(6).toString("hex");
    return { outs: { ...news, key, namespaceId } };
  },
};

/** Arguments of `Session`: what it records. */
export type SessionArgs = { [K in keyof SessionInputs]: pulumi.Input<SessionInputs[K]> };

/**
 * One per stack in live mode: holds the stack's session key (secret, generated once, kept across updates)
 * and its namespace, with what follows from it (topic prefix, client id prefixes of stubs and of
 * sessions), next to the IoT data endpoint, region and protocol version.
 *
 * A component of type `pulumi-live:index:Session` (what the CLI looks for in the stack) whose registered
 * outputs are those fields; the key and namespace id are made by the dynamic resource child
 * `<name>-state` (type `pulumi-nodejs:dynamic/pulumi-live:Session`).
 */
export class Session extends pulumi.ComponentResource {
  readonly key: pulumi.Output<string>;
  readonly namespaceId: pulumi.Output<string>;
  /** Topic prefix of the stack: `pulumi-live/<organization>/<project>/<stack>/<namespace id>`. */
  readonly prefix: pulumi.Output<string>;
  /** Client id prefix of the stack's relay stubs. */
  readonly stubClientPrefix: pulumi.Output<string>;
  /** Client id prefix of the stack's serving sessions (the developer's). */
  readonly sessionClientPrefix: pulumi.Output<string>;
  readonly organization: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
  readonly project: pulumi.Output<string>;
  readonly stack: pulumi.Output<string>;
  readonly protocolVersion: pulumi.Output<number>;

  constructor(name: string, args: SessionArgs, opts?: pulumi.ComponentResourceOptions) {
    super(SESSION_TYPE, name, {}, opts);
    const state = new SessionState(`${name}-state`, args, { parent: this, additionalSecretOutputs: ["key"] });
    const namespace = pulumi
      .all([state.organization, state.project, state.stack, state.namespaceId])
      // Mocks that do not run the provider (local mode reading the program) leave the id unset.
      .apply(([organization, project, stack, id]): StackNamespace => ({
        organization,
        project,
        stack,
        id: id ?? "",
      }));
    this.key = pulumi.secret(state.key);
    this.namespaceId = state.namespaceId;
    this.prefix = namespace.apply(topicPrefix);
    this.stubClientPrefix = namespace.apply((ns) => clientIdPrefix(ns, "stub"));
    this.sessionClientPrefix = namespace.apply((ns) => clientIdPrefix(ns, "session"));
    this.organization = state.organization;
    this.endpoint = state.endpoint;
    this.region = state.region;
    this.project = state.project;
    this.stack = state.stack;
    this.protocolVersion = state.protocolVersion;
    const outputs: {
      [K in keyof SessionRecord | "key"]: pulumi.Input<(SessionRecord & { key: string })[K]>;
    } = {
      key: this.key,
      organization: this.organization,
      project: this.project,
      stack: this.stack,
      namespaceId: this.namespaceId,
      prefix: this.prefix,
      stubClientPrefix: this.stubClientPrefix,
      sessionClientPrefix: this.sessionClientPrefix,
      endpoint: this.endpoint,
      region: this.region,
      protocolVersion: this.protocolVersion,
    };
    this.registerOutputs(outputs);
  }
}

/** The dynamic resource that owns the key and the namespace id. */
class SessionState extends pulumi.dynamic.Resource {
  declare readonly key: pulumi.Output<string>;
  declare readonly namespaceId: pulumi.Output<string>;
  declare readonly organization: pulumi.Output<string>;
  declare readonly endpoint: pulumi.Output<string>;
  declare readonly region: pulumi.Output<string>;
  declare readonly project: pulumi.Output<string>;
  declare readonly stack: pulumi.Output<string>;
  declare readonly protocolVersion: pulumi.Output<number>;

  constructor(name: string, args: SessionArgs, opts?: pulumi.CustomResourceOptions) {
    // Output properties must be present (undefined) in props for Pulumi to fill them in.
    super(
      sessionProvider,
      name,
      { ...args, key: undefined, namespaceId: undefined },
      opts,
      "pulumi-live",
      "Session",
    );
  }
}
