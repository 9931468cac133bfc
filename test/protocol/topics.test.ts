import test from "ava";
import {
  checkTopic,
  clientId,
  clientIdPrefix,
  functionId,
  sanitizeSegment,
  stackNamePrefix,
  stackTopics,
  topicPrefix,
  type StackNamespace,
} from "../../protocol";

const ns = (organization: string, project: string, stack: string, id = "0a1b2c3d4e5f"): StackNamespace => ({
  organization,
  project,
  stack,
  id,
});

test("safe names are kept as they are", (t) => {
  t.is(sanitizeSegment("my-app_1.0"), "my-app_1.0");
  t.is(topicPrefix(ns("acme", "shop", "dev")), "pulumi-live/acme/shop/dev/0a1b2c3d4e5f");
  t.is(stackNamePrefix(ns("acme", "shop", "dev")), "pulumi-live/acme/shop/dev");
});

test("two organizations, or two namespaces of one stack, never share a topic or a client id", (t) => {
  const alice = ns("alice", "app", "dev");
  const bob = ns("bob", "app", "dev");
  const again = ns("alice", "app", "dev", "ffffffffffff");
  const prefixes = [alice, bob, again].map(topicPrefix);
  t.is(new Set(prefixes).size, 3);
  for (const a of prefixes)
    for (const b of prefixes) if (a !== b) t.false(`${a}/`.startsWith(`${b}/`), `${a} under ${b}`);
  const clients = [alice, bob, again].flatMap((n) => [
    clientIdPrefix(n, "stub"),
    clientIdPrefix(n, "session"),
  ]);
  t.is(new Set(clients).size, 6);
  // No client id prefix is a prefix of another: an IAM grant on `<prefix>*` covers exactly its own.
  for (const a of clients) for (const b of clients) if (a !== b) t.false(a.startsWith(b), `${a} under ${b}`);
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
  const topics = stackTopics(topicPrefix(ns("acme", "acme/shop", "org/dev")));
  const prefix = "pulumi-live/acme/acme_shop-d21b2cdf/org_dev-aeaf548f/0a1b2c3d4e5f";
  t.is(topics.prefix, prefix);
  t.is(topics.presence, `${prefix}/presence`);
  t.is(topics.requests, `${prefix}/req/+`);
  t.is(topics.request("api"), `${prefix}/req/api`);
  t.is(topics.response("api", "e1"), `${prefix}/res/api/e1`);
  const worst = stackTopics(
    topicPrefix(ns("o+".repeat(300), "p".repeat(300), "s/".repeat(200), "#".repeat(100))),
  ).response("f".repeat(300), "e".repeat(300));
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

test("client ids have a per-stack prefix per role and fit in 128 bytes", (t) => {
  const stub = clientIdPrefix(ns("acme", "shop", "dev"), "stub");
  const session = clientIdPrefix(ns("acme", "shop", "dev"), "session");
  t.regex(stub, /^pulumi-live-[0-9a-f]{12}-stub-$/);
  t.is(session, stub.replace(/stub-$/, "cli-"));
  t.not(stub, clientIdPrefix(ns("acme", "shop", "prod"), "stub"));
  t.not(clientIdPrefix(ns("o", "a-b", "c"), "stub"), clientIdPrefix(ns("o", "a", "b-c"), "stub"));
  t.is(clientId(stub, "env1"), `${stub}env1`);
  t.true(Buffer.byteLength(clientId(session, "s".repeat(500))) <= 128);
  t.is(functionId("my api"), sanitizeSegment("my api"));
});
