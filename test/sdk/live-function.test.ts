import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { clientIdPrefix, stackNamePrefix, topicPrefix } from "../../protocol/topics";
import { LiveFunction } from "../../sdk";
import { bundleHandler } from "../../sdk/bundle";
import { Problems } from "../../sdk/errors";
import { resolveHandler } from "../../sdk/handler-source";
import { stubDisabledPolicyDocument, stubPolicyDocument } from "../../core/iot-policy";
import { ACCOUNT, closeMocks, ENDPOINT, REGION, startMocks, unwrapSecrets } from "../fixtures/pulumi-mocks";
import type { MockRun } from "../fixtures/pulumi-mocks";
import { archiveTexts, ensureStubBundle } from "./stub-bundle";

// Mocks are process-global: every scenario here runs serially, each on its own stack.
test.after.always(closeMocks);
const root = process.cwd();
const stub = ensureStubBundle().toString("utf8");
const namespace = (stack: string, id: string) => ({ organization: "acme", project: "demo", stack, id });
/** The scope of a live stack, from the namespace id its `Session` made. */
const scope = (stack: string, m: MockRun) => {
  const ns = namespace(stack, m.outputsOf("pulumi-live-session").namespaceId as string);
  return {
    partition: "aws",
    region: REGION,
    accountId: ACCOUNT,
    prefix: topicPrefix(ns),
    stubClientPrefix: clientIdPrefix(ns, "stub"),
  };
};

function realBundle(handler: string, format?: "cjs" | "esm"): Record<string, string> {
  const problems = new Problems();
  const source = resolveHandler(handler, root, problems)!;
  const files = bundleHandler(source, undefined, root, "node22", problems, format)!.files;
  return Object.fromEntries(Object.entries(files).map(([name, data]) => [name, data.toString("utf8")]));
}

async function run(stack: string, config: Record<string, string>, program: () => void): Promise<MockRun> {
  const mocks = await startMocks({ project: "demo", stack, config });
  program();
  await mocks.settle();
  return mocks;
}

test.serial("live: stub code, stub environment, IoT policy, description, liveTimeout, outputs", async (t) => {
  const m = await run("live", { live: "true" }, () => {
    new LiveFunction("api", {
      handler: "examples/handlers/api.handler",
      description: "Greets",
      timeout: 10,
      liveTimeout: 900,
      environment: { variables: { GREETING: "hi" } },
    });
    new LiveFunction("worker", { handler: "examples/handlers/worker.handler", fallback: true });
  });
  const api = m.byName("api-fn");
  t.deepEqual(archiveTexts(api.rawInputs.code), { "index.js": stub });
  t.is(api.inputs.handler, "index.handler");
  t.is(api.inputs.runtime, "nodejs22.x");
  t.is(api.inputs.description, "Greets (live)");
  t.is(api.inputs.timeout, 900);
  const key = m.outputsOf("pulumi-live-session").key as string;
  t.is(Buffer.from(key, "base64").length, 32);
  const namespaceId = m.outputsOf("pulumi-live-session").namespaceId as string;
  t.regex(namespaceId, /^[0-9a-f]{12}$/);
  t.deepEqual(unwrapSecrets(api.rawInputs.environment), {
    variables: {
      GREETING: "hi",
      PULUMI_LIVE_PREFIX: `pulumi-live/acme/demo/live/${namespaceId}`,
      PULUMI_LIVE_FUNCTION_ID: "api",
      PULUMI_LIVE_KEY: key,
      PULUMI_LIVE_CLIENT_PREFIX: clientIdPrefix(namespace("live", namespaceId), "stub"),
      PULUMI_LIVE_STACK: "demo/live",
      PULUMI_LIVE_ENDPOINT: ENDPOINT,
    },
  });
  t.is(api.rawInputs.environment[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig);
  t.deepEqual(JSON.parse(m.byName("api-iot").inputs.policy), stubPolicyDocument(scope("live", m), "api"));
  t.is(m.byName("api-iot").inputs.role, m.byName("api-role").state.name);

  // fallback: the stub plus the real bundle (CommonJS, so the stub can require it) under fallback/.
  const worker = m.byName("worker-fn");
  const real = realBundle("examples/handlers/worker.handler", "cjs");
  t.deepEqual(archiveTexts(worker.rawInputs.code), {
    "index.js": stub,
    "fallback/index.js": real["index.js"],
    "fallback/index.js.map": real["index.js.map"],
  });
  t.is(unwrapSecrets(worker.rawInputs.environment).variables.PULUMI_LIVE_FALLBACK, "fallback/index.handler");
  t.is(worker.inputs.description, "(live)");

  t.is(m.byType("pulumi-live:index:Session").length, 1);
  t.deepEqual(m.outputsOf("api"), {
    functionName: api.state.name,
    functionArn: api.state.arn,
    functionId: "api",
    handler: "examples/handlers/api.handler",
    runtime: "nodejs22.x",
    live: true,
    roleArn: m.byName("api-role").state.arn,
    streaming: false,
  });
});

test.serial(
  "not live: real bundle, no session, deny-only policy; per-function override; given role",
  async (t) => {
    const roleArn = "arn:aws:iam::123456789012:role/service/shared-role";
    const m = await run("off", {}, () => {
      new LiveFunction("api", {
        handler: "examples/handlers/api.handler",
        timeout: 10,
        liveTimeout: 900,
        fallback: true,
      });
      new LiveFunction("cron", { handler: "examples/handlers/cron.handler", live: true, role: roleArn });
    });
    const api = m.byName("api-fn");
    t.deepEqual(archiveTexts(api.rawInputs.code), realBundle("examples/handlers/api.handler"));
    t.is(api.inputs.handler, "index.handler");
    t.is(api.inputs.timeout, 10);
    t.is(api.inputs.environment, undefined);
    t.is(api.inputs.description, undefined);
    t.deepEqual(
      JSON.parse(m.byName("api-iot").inputs.policy),
      stubDisabledPolicyDocument(
        {
          partition: "aws",
          region: REGION,
          accountId: ACCOUNT,
          prefix: `${stackNamePrefix({ organization: "acme", project: "demo", stack: "off" })}/*`,
        },
        "api",
      ),
    );
    t.is(m.outputsOf("api").live, false);

    // `live: true` overrides the stack config for this function only; it brings the session with it.
    const cron = m.byName("cron-fn");
    t.deepEqual(archiveTexts(cron.rawInputs.code), { "index.js": stub });
    t.is(m.outputsOf("cron").live, true);
    t.is(m.byType("pulumi-live:index:Session").length, 1);
    // A given role: no role is created, the IoT policy attaches to it by name, the function runs as it.
    t.throws(() => m.byName("cron-role"), { message: "no resource named cron-role" });
    t.is(m.byType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 1);
    t.is(m.byName("cron-iot").inputs.role, "shared-role");
    t.deepEqual(JSON.parse(m.byName("cron-iot").inputs.policy), stubPolicyDocument(scope("off", m), "cron"));
    t.is(cron.inputs.role, roleArn);
    t.is(m.outputsOf("cron").roleArn, roleArn);
  },
);

test.serial(
  "streaming: live, the stub streams too (its setting); not live, the real bundle as it is",
  async (t) => {
    const m = await run("stream", { live: "true" }, () => {
      new LiveFunction("chat", { handler: "examples/handlers/stream.handler", streaming: true });
      new LiveFunction("chat-real", {
        handler: "examples/handlers/stream.handler",
        streaming: true,
        live: false,
      });
    });
    const live = m.byName("chat-fn");
    t.deepEqual(archiveTexts(live.rawInputs.code), { "index.js": stub });
    t.is(unwrapSecrets(live.rawInputs.environment).variables.PULUMI_LIVE_STREAMING, "true");
    t.is(m.outputsOf("chat").streaming, true);
    const real = m.byName("chat-real-fn");
    t.deepEqual(archiveTexts(real.rawInputs.code), realBundle("examples/handlers/stream.handler"));
    t.is(real.inputs.handler, "index.handler");
    t.is(real.inputs.environment, undefined);
    t.is(m.outputsOf("chat-real").streaming, true);
  },
);

test.serial("per-function live: false beats stack config live", async (t) => {
  const m = await run("override-off", { live: "yes" }, () => {
    new LiveFunction("cron", { handler: "examples/handlers/cron.handler", live: false });
  });
  t.is(m.outputsOf("cron").live, false);
  t.deepEqual(archiveTexts(m.byName("cron-fn").rawInputs.code), realBundle("examples/handlers/cron.handler"));
  t.is(m.byType("pulumi-live:index:Session").length, 0);
});

test.serial("toggling live keeps every URN (the Session aside)", async (t) => {
  const program = () => {
    new LiveFunction("api", { handler: "examples/handlers/api.handler" });
    new LiveFunction("worker", { handler: "examples/handlers/worker.handler", fallback: true });
  };
  const urns = async (stack: string, live: string) =>
    (await run(stack, { live }, program)).registrations
      .map((r) => r.urn.replace(`urn:pulumi:${stack}::`, "urn:pulumi:STACK::"))
      .sort();
  const off = await urns("toggle-a", "false");
  const on = await urns("toggle-b", "true");
  const session = on.filter((u) => u.includes("pulumi-live:index:Session"));
  t.deepEqual(session, [
    "urn:pulumi:STACK::demo::pulumi-live:index:Session$pulumi-nodejs:dynamic/pulumi-live:Session::pulumi-live-session-state",
    "urn:pulumi:STACK::demo::pulumi-live:index:Session::pulumi-live-session",
  ]);
  t.deepEqual(
    on.filter((u) => !session.includes(u)),
    off,
  );
  t.is(off.length, 10);
});

test.serial(
  "upgrading keeps every URN: the live program registers what protocol version 1 did",
  async (t) => {
    const m = await run("upgrade", { live: "true" }, () => {
      new LiveFunction("api", { handler: "examples/handlers/api.handler" });
    });
    // Pinned from the version before namespaces: any new, renamed or re-parented resource shows up here.
    t.deepEqual(m.registrations.map((r) => r.urn).sort(), [
      "urn:pulumi:upgrade::demo::pulumi-live:aws:Function$aws:iam/role:Role::api-role",
      "urn:pulumi:upgrade::demo::pulumi-live:aws:Function$aws:iam/rolePolicy:RolePolicy::api-iot",
      "urn:pulumi:upgrade::demo::pulumi-live:aws:Function$aws:iam/rolePolicyAttachment:RolePolicyAttachment::api-basic",
      "urn:pulumi:upgrade::demo::pulumi-live:aws:Function$aws:lambda/function:Function::api-fn",
      "urn:pulumi:upgrade::demo::pulumi-live:aws:Function::api",
      "urn:pulumi:upgrade::demo::pulumi-live:index:Session$pulumi-nodejs:dynamic/pulumi-live:Session::pulumi-live-session-state",
      "urn:pulumi:upgrade::demo::pulumi-live:index:Session::pulumi-live-session",
    ]);
  },
);
