/**
 * AWS IoT Core's data-plane rules the stand-in enforces, each with where AWS documents it.
 *
 * QUOTAS: https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits
 * MQTT:   https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html ("AWS IoT differences from MQTT
 *         version 3.1.1 specification", "Using MQTT retained messages", "Using connectAttributes")
 * TOPICS: https://docs.aws.amazon.com/iot/latest/developerguide/topics.html
 * ACTIONS: https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-actions.html
 */
export interface IotLimits {
  /** QUOTAS "Message size": the payload of a PUBLISH, 128 KB; IoT Core rejects larger ones. */
  maxPayloadBytes: number;
  /** QUOTAS "Topic size" (UTF-8 bytes) and "Maximum number of slashes in topic and topic filter". */
  maxTopicBytes: number;
  maxTopicSlashes: number;
  /** QUOTAS "Client ID size": 128 bytes of UTF-8. */
  maxClientIdBytes: number;
  /** QUOTAS "Connect requests per second per client ID": 1. */
  connectsPerSecondPerClientId: number;
  /** QUOTAS "Subscriptions per connection": 50. */
  maxSubscriptionsPerConnection: number;
  /** QUOTAS "Maximum subscriptions per subscribe request": 8. */
  maxFiltersPerSubscribe: number;
  /** QUOTAS "Publish requests per second per connection": 100, counted each way. */
  publishesPerSecond: number;
  /** QUOTAS "Throughput per connection": 512 KiB/s, counted each way. */
  bytesPerSecond: number;
  /** QUOTAS "Keep-alive period": 30 to 1200 s; outside, the broker uses the nearest bound (0 is 1200). */
  minKeepAliveSeconds: number;
  maxKeepAliveSeconds: number;
}

export const IOT_LIMITS: IotLimits = {
  maxPayloadBytes: 128 * 1024,
  maxTopicBytes: 256,
  maxTopicSlashes: 7,
  maxClientIdBytes: 128,
  connectsPerSecondPerClientId: 1,
  maxSubscriptionsPerConnection: 50,
  maxFiltersPerSubscribe: 8,
  publishesPerSecond: 100,
  bytesPerSecond: 512 * 1024,
  minKeepAliveSeconds: 30,
  maxKeepAliveSeconds: 1200,
};

/**
 * A per-connection quota as a token bucket holding one second's worth: IoT Core does not document its
 * algorithm, so a burst of up to one second's quota is let through and a steady rate above it is not.
 */
export class Bucket {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  /** Takes `amount` if there is that much; false when the quota is used up (the caller throttles). */
  take(amount: number): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }
}

/** Why a topic name (PUBLISH) or topic filter (SUBSCRIBE) is refused, if it is. */
export function topicProblem(topic: string, kind: "name" | "filter", limits: IotLimits): string | undefined {
  if (topic.length === 0) return "empty topic";
  if (Buffer.byteLength(topic) > limits.maxTopicBytes) return `longer than ${limits.maxTopicBytes} bytes`;
  if (topic.split("/").length - 1 > limits.maxTopicSlashes)
    return `more than ${limits.maxTopicSlashes} slashes`;
  // TOPICS: topics that begin with $ are reserved for AWS IoT Core.
  if (topic.startsWith("$")) return "a reserved topic ($...)";
  if (kind === "name" && /[+#]/.test(topic)) return "a wildcard in a topic name";
  if (kind === "filter") {
    const levels = topic.split("/");
    for (const [i, level] of levels.entries()) {
      if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) return "a misplaced #";
      if (level.includes("+") && level !== "+") return "a misplaced +";
    }
  }
  return undefined;
}

/** Whether an MQTT topic filter matches a topic name (`#` matches the level and below, not the parent). */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return t.length > i;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** `$share/{ShareName}/{TopicFilter}`, IoT Core's shared subscriptions (MQTT 3.1.1 and 5). */
export function parseShared(filter: string): { group: string; filter: string } | undefined {
  const m = /^\$share\/([^/+#]+)\/(.+)$/.exec(filter);
  return m ? { group: m[1], filter: m[2] } : undefined;
}
