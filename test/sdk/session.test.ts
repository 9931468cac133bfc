import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { PROTOCOL_VERSION } from "../../protocol/messages";
import { clientIdPrefix, topicPrefix } from "../../protocol/topics";
import { sessionProvider } from "../../sdk";
import type { SessionInputs, SessionOutputs } from "../../sdk";
import { stackContext } from "../../sdk/stack-context";
import {
  ENDPOINT,
  REGION,
  SESSION_STATE_TYPE,
  closeMocks,
  loadSerializedProvider,
  startMocks,
  unwrapSecrets,
} from "../fixtures/pulumi-mocks";

test.after.always(closeMocks);

const inputs: SessionInputs = {
  organization: "acme",
  project: "demo",
  stack: "dev",
  endpoint: ENDPOINT,
  region: REGION,
  protocolVersion: PROTOCOL_VERSION,
};

test("create makes a 256-bit key and a namespace id; update keeps both; diff never replaces", async (t) => {
  const created = await sessionProvider.create(inputs);
  const { key, namespaceId } = created.outs!;
  t.is(Buffer.from(key, "base64").length, 32);
  t.regex(namespaceId, /^[0-9a-f]{12}$/);
  t.deepEqual(created.outs, { ...inputs, key, namespaceId });
  const other = (await sessionProvider.create(inputs)).outs!;
  t.not(other.key, key);
  t.not(other.namespaceId, namespaceId);

  t.deepEqual(await sessionProvider.diff!(created.id, created.outs!, inputs), {
    changes: false,
    replaces: [],
    deleteBeforeReplace: false,
  });
  const moved = { ...inputs, region: "us-east-1" };
  t.deepEqual(await sessionProvider.diff!(created.id, created.outs!, moved), {
    changes: true,
    replaces: [],
    deleteBeforeReplace: false,
  });
  t.deepEqual(await sessionProvider.update!(created.id, created.outs!, moved), {
    outs: { ...moved, key, namespaceId },
  });
});

test("a state written before namespaces is updated in place: same key, a namespace id made once", async (t) => {
  // What protocol version 1 recorded: prefix and one client prefix from project and stack, no namespace.
  const old = {
    prefix: "pulumi-live/demo/dev",
    clientPrefix: "pulumi-live-0123456789ab-",
    endpoint: ENDPOINT,
    region: REGION,
    project: "demo",
    stack: "dev",
    protocolVersion: 1,
    key: Buffer.alloc(32, 3).toString("base64"),
  } as unknown as SessionOutputs;
  t.deepEqual(await sessionProvider.diff!("id", old, inputs), {
    changes: true,
    replaces: [],
    deleteBeforeReplace: false,
  });
  const updated = (await sessionProvider.update!("id", old, inputs)).outs!;
  t.is(updated.key, old.key);
  t.regex(updated.namespaceId, /^[0-9a-f]{12}$/);
  t.deepEqual(updated, { ...inputs, key: old.key, namespaceId: updated.namespaceId });
  // The next update keeps it.
  t.is((await sessionProvider.update!("id", updated, inputs)).outs!.namespaceId, updated.namespaceId);
  t.false((await sessionProvider.diff!("id", updated, inputs)).changes);
});

test("the provider survives closure serialization and works from the serialized text", async (t) => {
  const serialized = await pulumi.runtime.serializeFunction(() => sessionProvider, { allowSecrets: true });
  const provider = loadSerializedProvider(serialized.text);
  const created = await provider.create(inputs);
  t.is(Buffer.from(created.outs.key, "base64").length, 32);
  t.regex(created.outs.namespaceId, /^[0-9a-f]{12}$/);
  t.deepEqual((await provider.update!(created.id, created.outs, inputs)).outs, created.outs);
});

test("a mocked run serializes the provider into the Session's state and records the namespace", async (t) => {
  const run = await startMocks({ project: "demo", stack: "dev", config: { live: "true" } });
  const context = stackContext();
  t.is(context.session(), context.session());
  await run.settle();
  const [state] = run.byType(SESSION_STATE_TYPE);
  t.regex(state.inputs.__provider, /^exports\.handler = __f\d+;/m);
  t.deepEqual(state.additionalSecretOutputs, ["key"]);
  const outputs = run.outputsOf("pulumi-live-session");
  t.is(outputs.key, state.state.key);
  const namespace = { organization: "acme", project: "demo", stack: "dev", id: state.state.namespaceId };
  t.deepEqual(outputs, {
    ...inputs,
    key: outputs.key,
    namespaceId: state.state.namespaceId,
    prefix: topicPrefix(namespace),
    stubClientPrefix: clientIdPrefix(namespace, "stub"),
    sessionClientPrefix: clientIdPrefix(namespace, "session"),
  });
  const raw = run.byName("pulumi-live-session").rawOutputs!;
  t.is(raw.key[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig);
  t.deepEqual(unwrapSecrets(raw.key), outputs.key);
});
