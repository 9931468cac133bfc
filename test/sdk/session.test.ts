import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { PROTOCOL_VERSION } from "../../protocol/messages";
import { clientIdPrefix } from "../../protocol/topics";
import { sessionProvider } from "../../sdk";
import type { SessionInputs } from "../../sdk";
import { stackContext } from "../../sdk/stack-context";
import {
  ENDPOINT,
  REGION,
  SESSION_STATE_TYPE,
  loadSerializedProvider,
  startMocks,
  unwrapSecrets,
} from "../fixtures/pulumi-mocks";

const inputs: SessionInputs = {
  prefix: "pulumi-live/demo/dev",
  clientPrefix: "pulumi-live-0123456789ab-",
  endpoint: ENDPOINT,
  region: REGION,
  project: "demo",
  stack: "dev",
  protocolVersion: PROTOCOL_VERSION,
};

test("create generates a 256-bit key; update keeps it; diff updates in place, never replaces", async (t) => {
  const created = await sessionProvider.create(inputs);
  const key = created.outs!.key;
  t.is(Buffer.from(key, "base64").length, 32);
  t.deepEqual(created.outs, { ...inputs, key });
  t.not((await sessionProvider.create(inputs)).outs!.key, key);

  t.deepEqual(await sessionProvider.diff!(created.id, created.outs!, inputs), {
    changes: false,
    replaces: [],
    deleteBeforeReplace: false,
  });
  const moved = { ...inputs, prefix: "pulumi-live/demo/other" };
  t.deepEqual(await sessionProvider.diff!(created.id, created.outs!, moved), {
    changes: true,
    replaces: [],
    deleteBeforeReplace: false,
  });
  t.deepEqual(await sessionProvider.update!(created.id, created.outs!, moved), { outs: { ...moved, key } });
});

test("the provider survives closure serialization and works from the serialized text", async (t) => {
  const serialized = await pulumi.runtime.serializeFunction(() => sessionProvider, { allowSecrets: true });
  const provider = loadSerializedProvider(serialized.text);
  const created = await provider.create(inputs);
  t.is(Buffer.from(created.outs.key, "base64").length, 32);
  t.deepEqual((await provider.update!(created.id, created.outs, inputs)).outs, created.outs);
});

test("a mocked run serializes the provider into the Session's state and records the session outputs", async (t) => {
  const run = await startMocks({ project: "demo", stack: "dev", config: { live: "true" } });
  const context = stackContext();
  t.is(context.session(), context.session());
  await run.settle();
  const [state] = run.byType(SESSION_STATE_TYPE);
  t.regex(state.inputs.__provider, /^exports\.handler = __f\d+;/m);
  t.deepEqual(state.additionalSecretOutputs, ["key"]);
  const outputs = run.outputsOf("pulumi-live-session");
  t.is(outputs.key, state.state.key);
  t.deepEqual(outputs, { ...inputs, clientPrefix: clientIdPrefix("demo", "dev"), key: outputs.key });
  const raw = run.byName("pulumi-live-session").rawOutputs!;
  t.is(raw.key[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig);
  t.deepEqual(unwrapSecrets(raw.key), outputs.key);
});
