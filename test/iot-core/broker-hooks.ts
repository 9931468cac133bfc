import type { IncomingMessage } from "node:http";
import type { Aedes, Client, PublishPacket, Subscription } from "aedes" with { "resolution-mode": "import" };
import type { Identity, Principals } from "./principals";
import { Bucket, filterMatches, parseShared, topicProblem, type IotLimits } from "./rules";

/** Something the stand-in refused, throttled or did, for tests to assert on. */
export interface StandInEvent {
  type: "connected" | "refused" | "denied" | "throttled" | "disconnected";
  clientId?: string;
  principal?: string;
  /** The IoT action IAM decided on, and its resource. */
  action?: string;
  resource?: string;
  reason: string;
}

/** What the broker knows of one connection. */
interface ConnectionState {
  identity: Identity;
  attributes: string[];
  inPublishes: Bucket;
  inBytes: Bucket;
  outPublishes: Bucket;
  outBytes: Bucket;
  /** Every filter subscribed, as requested (`$share/...` included), for the per-connection quota. */
  filters: Set<string>;
  /** Non-shared filters. */
  plain: Set<string>;
  /** Shared filters (the part after `$share/{group}/`) and their group. */
  shared: Map<string, string>;
  /** The filter count of the SUBSCRIBE being handled (aedes hands its filters over one by one). */
  subscribeSize: number;
}

/** A topic nobody can subscribe to: where a throttled publish goes, unacknowledged (QoS 0). */
const SINK = "$stand-in/throttled";

export interface HookContext {
  region: string;
  limits: IotLimits;
  principals: Principals;
  identityOf: WeakMap<IncomingMessage, Identity>;
  record(event: StandInEvent): void;
  /** Told of every message handed to a client. */
  forwarded(clientId: string, topic: string, payload: Buffer): void;
}

/**
 * Installs AWS IoT Core's rules on an aedes broker: every CONNECT, PUBLISH, SUBSCRIBE and delivery is
 * decided by IAM over the connection's principal, within IoT Core's quotas, with shared subscriptions.
 * See rules.ts for where each rule is documented; how a refusal looks follows mqtt.md's differences
 * from MQTT 3.1.1 (a refused CONNECT gets CONNACK "not authorized", an unauthorized or oversized
 * PUBLISH closes the connection, a refused filter gets SUBACK 0x80, an unauthorized delivery is not
 * made) and the SDK teams' accounts of throttling (a publish over the quota is dropped without PUBACK:
 * aws/aws-iot-device-sdk-cpp-v2#179, aws/aws-iot-device-sdk-python-v2#551).
 */
export function installIotRules(broker: Aedes, ctx: HookContext): void {
  const { limits, principals } = ctx;
  const states = new WeakMap<Client, ConnectionState>();
  const connectPackets = new WeakMap<Client, { will?: unknown; clean: boolean }>();
  const lastConnect = new Map<string, number>();
  const groups = new Map<string, Set<string>>();
  const arn = (kind: string, rest: string) =>
    `arn:aws:iot:${ctx.region}:${principals.accountId}:${kind}/${rest}`;
  const deny = (client: Client, state: ConnectionState | undefined, action: string, resource: string) =>
    ctx.record({
      type: "denied",
      clientId: client.id,
      principal: state?.identity.principal,
      action,
      resource,
      reason: `${state?.identity.principal ?? "no principal"} is not authorized to perform ${action} on ${resource}`,
    });

  broker.preConnect = (client, packet, done) => {
    // QUOTAS "Keep-alive period": the broker uses the nearest value in range.
    const asked = packet.keepalive ?? 0;
    packet.keepalive =
      asked === 0
        ? limits.maxKeepAliveSeconds
        : Math.min(limits.maxKeepAliveSeconds, Math.max(limits.minKeepAliveSeconds, asked));
    const id = packet.clientId ?? "";
    const now = Date.now();
    const last = lastConnect.get(id) ?? 0;
    lastConnect.set(id, now);
    if (now - last < 1000 / limits.connectsPerSecondPerClientId) {
      ctx.record({ type: "throttled", clientId: id, reason: "CONNECT requests per second per client ID" });
      return done(new Error("connect throttled"), false);
    }
    connectPackets.set(client, { will: packet.will, clean: packet.clean !== false });
    done(null, true);
  };

  broker.authenticate = (client, _username, _password, done) => {
    const identity = client.req ? ctx.identityOf.get(client.req) : undefined;
    const connect = connectPackets.get(client);
    const refuse = (returnCode: number, reason: string) => {
      ctx.record({ type: "refused", clientId: client.id, principal: identity?.principal, reason });
      done(Object.assign(new Error(reason), { returnCode }), false);
    };
    if (!identity || !connect) return refuse(5, "no signed identity");
    if (Buffer.byteLength(client.id) > limits.maxClientIdBytes) return refuse(2, "client id too long");
    // mqtt.md "Using connectAttributes": a will and a persistent session are attributes IAM must allow.
    const attributes = [
      ...(connect.will ? ["LastWill"] : []),
      ...(connect.clean ? [] : ["PersistentConnect"]),
    ];
    const resource = arn("client", client.id);
    const context: Record<string, string[]> = attributes.length
      ? { "iot:ConnectAttributes": attributes }
      : {};
    if (principals.decide(identity, "iot:Connect", resource, context) !== "Allowed") {
      deny(client, { identity } as ConnectionState, "iot:Connect", resource);
      return refuse(5, `not authorized to connect as ${client.id}`);
    }
    const will = connect.will as { topic?: string } | undefined;
    const willProblem = will?.topic !== undefined ? topicProblem(will.topic, "name", limits) : undefined;
    if (willProblem) return refuse(5, `last will topic: ${willProblem}`);
    states.set(client, {
      identity,
      attributes,
      inPublishes: new Bucket(limits.publishesPerSecond),
      inBytes: new Bucket(limits.bytesPerSecond),
      outPublishes: new Bucket(limits.publishesPerSecond),
      outBytes: new Bucket(limits.bytesPerSecond),
      filters: new Set(),
      plain: new Set(),
      shared: new Map(),
      subscribeSize: 0,
    });
    // QUOTAS "Maximum subscriptions per subscribe request": aedes hands filters over one by one, so the
    // SUBSCRIBE's size is noted as it is parsed.
    const parser = (client as unknown as { _parser?: NodeJS.EventEmitter })._parser;
    parser?.prependListener("packet", (packet: { cmd: string; subscriptions?: unknown[] }) => {
      const state = states.get(client);
      if (state && packet.cmd === "subscribe") state.subscribeSize = packet.subscriptions?.length ?? 0;
    });
    ctx.record({
      type: "connected",
      clientId: client.id,
      principal: identity.principal,
      reason: "connected",
    });
    done(null, true);
  };

  broker.authorizePublish = (client, packet, done) => {
    const state = client ? states.get(client) : undefined;
    if (!client || !state) return done(new Error("not connected"));
    const isWill = packet === (client as unknown as { will?: unknown }).will;
    const problem = topicProblem(packet.topic, "name", limits);
    if (problem) return done(new Error(`PUBLISH to ${packet.topic}: ${problem}`));
    if (packet.payload.length > limits.maxPayloadBytes) {
      ctx.record({
        type: "refused",
        clientId: client.id,
        reason: `payload of ${packet.payload.length} bytes`,
      });
      return done(new Error("payload larger than 128 KB"));
    }
    const sink = (reason: string) => {
      ctx.record({ type: "throttled", clientId: client.id, resource: packet.topic, reason });
      Object.assign(packet, { topic: SINK, qos: 0, retain: false });
      done(null);
    };
    // mqtt.md: QoS 2 is not supported; the broker acknowledges nothing.
    if (packet.qos === 2) return sink("QoS 2");
    if (!isWill && !(state.inPublishes.take(1) && state.inBytes.take(packet.payload.length)))
      return sink("inbound publish quota");
    const resource = arn("topic", packet.topic);
    for (const action of packet.retain ? ["iot:Publish", "iot:RetainPublish"] : ["iot:Publish"]) {
      if (principals.decide(state.identity, action, resource) !== "Allowed") {
        deny(client, state, action, resource);
        return done(new Error(`not authorized: ${action} on ${resource}`));
      }
    }
    done(null);
  };

  broker.authorizeSubscribe = (client, sub, done) => {
    const state = states.get(client);
    if (!state) return done(new Error("not connected"), null);
    const requested = sub.topic;
    const shared = parseShared(requested);
    const filter = shared?.filter ?? requested;
    const refuse = (reason: string) => {
      ctx.record({ type: "refused", clientId: client.id, resource: requested, reason });
      done(null, null);
    };
    const problem =
      requested.startsWith("$") && !shared
        ? "a reserved topic ($...)"
        : topicProblem(filter, "filter", limits);
    if (problem) return refuse(problem);
    if (state.subscribeSize > limits.maxFiltersPerSubscribe)
      return refuse("more than 8 filters in one SUBSCRIBE");
    if (!state.filters.has(requested) && state.filters.size >= limits.maxSubscriptionsPerConnection)
      return refuse("subscriptions per connection");
    const resource = arn("topicfilter", requested);
    if (principals.decide(state.identity, "iot:Subscribe", resource) !== "Allowed") {
      deny(client, state, "iot:Subscribe", resource);
      return done(null, null);
    }
    state.filters.add(requested);
    const granted = { ...sub, topic: filter, qos: Math.min(sub.qos, 1) } as Subscription;
    if (shared) {
      state.shared.set(filter, shared.group);
      const key = `${shared.group}\u0000${filter}`;
      if (!groups.has(key)) groups.set(key, new Set());
      groups.get(key)!.add(client.id);
    } else state.plain.add(filter);
    // The SUBACK reports what was asked for; aedes files the subscription under the filter itself.
    Object.assign(sub, granted);
    done(null, sub);
  };

  broker.authorizeForward = (client, packet) => {
    const state = states.get(client);
    if (!state || packet.topic.startsWith("$")) return null;
    const plain = [...state.plain].some((f) => filterMatches(f, packet.topic));
    if (packet.retain) {
      // mqtt.md: a retained message is sent on subscribing only to a filter equal to its topic.
      if (!state.plain.has(packet.topic)) return null;
    } else if (!plain) {
      const counter = (packet as PublishPacket & { brokerCounter?: number }).brokerCounter ?? 0;
      const mine = [...state.shared].some(([filter, group]) => {
        if (!filterMatches(filter, packet.topic)) return false;
        const members = [...(groups.get(`${group}\u0000${filter}`) ?? [])].sort();
        // One member per message, spread over the group (IoT Core picks at random).
        return members[(Math.imul(counter, 2654435761) >>> 0) % members.length] === client.id;
      });
      if (!mine) return null;
    }
    const resource = arn("topic", packet.topic);
    if (principals.decide(state.identity, "iot:Receive", resource) !== "Allowed") {
      deny(client, state, "iot:Receive", resource);
      return null;
    }
    if (!(state.outPublishes.take(1) && state.outBytes.take(packet.payload.length))) {
      ctx.record({
        type: "throttled",
        clientId: client.id,
        resource: packet.topic,
        reason: "outbound publish quota",
      });
      return null;
    }
    ctx.forwarded(client.id, packet.topic, Buffer.from(packet.payload));
    return packet;
  };

  broker.on("clientDisconnect", (client) => {
    const state = states.get(client);
    for (const [filter, group] of state?.shared ?? [])
      groups.get(`${group}\u0000${filter}`)?.delete(client.id);
    ctx.record({
      type: "disconnected",
      clientId: client.id,
      principal: state?.identity.principal,
      reason: "closed",
    });
  });
}
