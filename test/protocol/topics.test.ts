import test from "ava";
import {
  checkTopic,
  clientId,
  clientIdPrefix,
  functionId,
  sanitizeSegment,
  stackTopics,
  topicPrefix,
} from "../../protocol";

test("safe names are kept as they are", (t) => {
  t.is(sanitizeSegment("my-app_1.0"), "my-app_1.0");
  t.is(topicPrefix("shop", "dev"), "pulumi-live/shop/dev");
});

test("unsafe characters are replaced and a hash keeps names unique", (t) => {
  t.is(sanitizeSegment("acme/dev"), "acme_dev-6fb62d6d");
  t.is(sanitizeSegment("a+b#c$"), "a_b_c_-e0085730");
  t.not(sanitizeSegment("acme/dev"), sanitizeSegment("acme_dev"));
  t.not(sanitizeSegment("acme/dev"), sanitizeSegment("acme+dev"));
  t.is(sanitizeSegment(""), "_-e3b0c442");
});

test("long names are cut to 48 bytes and stay unique", (t) => {
  const a = sanitizeSegment("x".repeat(100));
  const b = sanitizeSegment("x".repeat(101));
  t.is(a.length, 48);
  t.is(b.length, 48);
  t.not(a, b);
  // Multi-byte characters are replaced, so bytes equal characters.
  t.is(Buffer.byteLength(sanitizeSegment("é".repeat(60))), 48);
});

test("stack topics are exact and within IoT Core's limits", (t) => {
  const topics = stackTopics(topicPrefix("acme/shop", "org/dev"));
  t.is(topics.prefix, "pulumi-live/acme_shop-d21b2cdf/org_dev-aeaf548f");
  t.is(topics.presence, "pulumi-live/acme_shop-d21b2cdf/org_dev-aeaf548f/presence");
  t.is(topics.requests, "pulumi-live/acme_shop-d21b2cdf/org_dev-aeaf548f/req/+");
  t.is(topics.request("api"), "pulumi-live/acme_shop-d21b2cdf/org_dev-aeaf548f/req/api");
  t.is(topics.response("api", "e1"), "pulumi-live/acme_shop-d21b2cdf/org_dev-aeaf548f/res/api/e1");
  const worst = stackTopics(topicPrefix("p".repeat(300), "s/".repeat(200))).response(
    "f".repeat(300),
    "e".repeat(300),
  );
  t.true(Buffer.byteLength(worst) <= 256);
  t.true(worst.split("/").length - 1 <= 7);
  t.notRegex(worst, /[+#$]/);
});

test("checkTopic names every rule a topic breaks", (t) => {
  const error = t.throws(() => checkTopic("a/".repeat(8) + "+" + "x".repeat(300)));
  t.is(
    error?.message,
    `Invalid IoT topic "${"a/".repeat(8) + "+" + "x".repeat(300)}": longer than 256 bytes, more than 7 slashes, contains + # or $`,
  );
});

test("client ids share a per-stack prefix and fit in 128 bytes", (t) => {
  const prefix = clientIdPrefix("shop", "dev");
  t.regex(prefix, /^pulumi-live-[0-9a-f]{12}-$/);
  t.not(prefix, clientIdPrefix("shop", "prod"));
  t.not(clientIdPrefix("a-b", "c"), clientIdPrefix("a", "b-c"));
  t.is(clientId(prefix, "stub", "env1"), `${prefix}stub-env1`);
  t.true(Buffer.byteLength(clientId(prefix, "cli", "s".repeat(500))) <= 128);
  t.is(functionId("my api"), sanitizeSegment("my api"));
});
