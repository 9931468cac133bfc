import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { generateStackExport } from "../fixtures/stack-export";

const key = Buffer.alloc(32, 7).toString("base64");

test("the demo's stack export has the format `pulumi stack export --show-secrets` writes", async (t) => {
  const exported = await generateStackExport({ sessionKey: key, namespaceId: "0a1b2c3d4e5f" });
  const round = JSON.parse(JSON.stringify(exported));
  t.deepEqual(round, exported);
  t.is(exported.version, 3);
  t.deepEqual(Object.keys(exported.deployment), ["manifest", "secrets_providers", "resources"]);
  t.deepEqual(Object.keys(exported.deployment.manifest), ["time", "magic", "version"]);

  const resources = exported.deployment.resources;
  const stackUrn = "urn:pulumi:dev::pulumi-live-demo::pulumi:pulumi:Stack::pulumi-live-demo-dev";
  t.is(resources[0].urn, stackUrn);
  t.deepEqual(Object.keys(resources[0].outputs!), ["apiUrl", "queueUrl"]);
  for (const r of resources.slice(1)) {
    if (!r.type.startsWith("pulumi:providers:")) t.truthy(r.parent, r.urn);
    if (r.custom && !r.type.startsWith("pulumi:providers:"))
      t.regex(r.provider!, /^urn:pulumi:dev::pulumi-live-demo::pulumi:providers:/);
  }

  const session = resources.find((r) => r.type === "pulumi-live:index:Session")!;
  t.deepEqual(session.outputs!.key, {
    [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
    plaintext: JSON.stringify(key),
  });
  t.like(session.outputs, {
    organization: "acme",
    namespaceId: "0a1b2c3d4e5f",
    prefix: "pulumi-live/acme/pulumi-live-demo/dev/0a1b2c3d4e5f",
    stubClientPrefix: "pulumi-live-155a5a236ed0-stub-",
    sessionClientPrefix: "pulumi-live-155a5a236ed0-cli-",
  });

  const functions = resources.filter((r) => r.type === "pulumi-live:aws:Function");
  t.deepEqual(
    functions.map((f) => [f.urn, f.outputs!.handler, f.outputs!.functionId, f.outputs!.live]),
    ["api", "worker", "cron"].map((name) => [
      `urn:pulumi:dev::pulumi-live-demo::pulumi-live:aws:Function::${name}`,
      `examples/handlers/${name}.handler`,
      name,
      true,
    ]),
  );
  const fn = resources.find((r) => r.urn.endsWith("::api-fn"))!;
  t.is(fn.parent, functions[0].urn);
  t.is(fn.outputs!.name, functions[0].outputs!.functionName);
  const env = JSON.parse((fn.outputs!.environment as { plaintext: string }).plaintext);
  t.is(env.variables.PULUMI_LIVE_KEY, key);
});
