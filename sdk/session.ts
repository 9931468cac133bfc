import * as pulumi from "@pulumi/pulumi";
import { SESSION_TYPE } from "../core/names";
import type { SessionRecord } from "../core/stack-record";

/** What the `Session` records besides its key: everything a stub or the CLI needs to find the stack. */
export type SessionInputs = SessionRecord;

/** The `Session`'s state: its inputs plus the session key (base64 of 32 random bytes). */
export interface SessionOutputs extends SessionInputs {
  key: string;
}

/**
 * The dynamic provider behind `Session`. Every method is self-contained (`require` inside, no reference to
 * module scope) because Pulumi serializes the provider's code into state and runs it from there later.
 */
export const sessionProvider: pulumi.dynamic.ResourceProvider<SessionInputs, SessionOutputs> = {
  async create(inputs: SessionInputs) {
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const key = crypto.randomBytes(32).toString("base64");
    return { id: crypto.randomUUID(), outs: { ...inputs, key } };
  },

  async diff(_id: string, olds: SessionOutputs, news: SessionInputs) {
    // Every recorded field but the key; a change updates the session in place.
    const fields = ["prefix", "clientPrefix", "endpoint", "region", "project", "stack", "protocolVersion"];
    const changed = fields.filter(
      (field) =>
        (olds as unknown as Record<string, unknown>)[field] !==
        (news as unknown as Record<string, unknown>)[field],
    );
    // Nothing ever forces a replacement: a new resource would mean a new key and re-deployed stubs.
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id: string, olds: SessionOutputs, news: SessionInputs) {
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const key = olds.key || crypto.randomBytes(32).toString("base64");
    return { outs: { ...news, key } };
  },
};

/** Arguments of `Session`: what it records. */
export type SessionArgs = { [K in keyof SessionInputs]: pulumi.Input<SessionInputs[K]> };

/**
 * One per stack in live mode: holds the stack's session key (secret, generated once, kept across updates)
 * next to its topic prefix, client id prefix, IoT data endpoint, region, project, stack and protocol version.
 *
 * A component of type `pulumi-live:index:Session` (what the CLI looks for in the stack) whose registered
 * outputs are those fields; the key itself is made by the dynamic resource child `<name>-state`
 * (type `pulumi-nodejs:dynamic/pulumi-live:Session`).
 */
export class Session extends pulumi.ComponentResource {
  readonly key: pulumi.Output<string>;
  readonly prefix: pulumi.Output<string>;
  readonly clientPrefix: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
  readonly project: pulumi.Output<string>;
  readonly stack: pulumi.Output<string>;
  readonly protocolVersion: pulumi.Output<number>;

  constructor(name: string, args: SessionArgs, opts?: pulumi.ComponentResourceOptions) {
    super(SESSION_TYPE, name, {}, opts);
    const state = new SessionState(`${name}-state`, args, { parent: this, additionalSecretOutputs: ["key"] });
    this.key = pulumi.secret(state.key);
    this.prefix = state.prefix;
    this.clientPrefix = state.clientPrefix;
    this.endpoint = state.endpoint;
    this.region = state.region;
    this.project = state.project;
    this.stack = state.stack;
    this.protocolVersion = state.protocolVersion;
    this.registerOutputs({
      key: this.key,
      prefix: this.prefix,
      clientPrefix: this.clientPrefix,
      endpoint: this.endpoint,
      region: this.region,
      project: this.project,
      stack: this.stack,
      protocolVersion: this.protocolVersion,
    });
  }
}

/** The dynamic resource that owns the key. */
class SessionState extends pulumi.dynamic.Resource {
  declare readonly key: pulumi.Output<string>;
  declare readonly prefix: pulumi.Output<string>;
  declare readonly clientPrefix: pulumi.Output<string>;
  declare readonly endpoint: pulumi.Output<string>;
  declare readonly region: pulumi.Output<string>;
  declare readonly project: pulumi.Output<string>;
  declare readonly stack: pulumi.Output<string>;
  declare readonly protocolVersion: pulumi.Output<number>;

  constructor(name: string, args: SessionArgs, opts?: pulumi.CustomResourceOptions) {
    // Output properties must be present (undefined) in props for Pulumi to fill them in.
    super(sessionProvider, name, { ...args, key: undefined }, opts, "pulumi-live", "Session");
  }
}
