/**
 * The local engine (cli/program/local-engine.ts) with the real Pulumi SDK of this process talking to it
 * over gRPC, as a program talks to the Pulumi CLI. The SDK's connection is process-global: serial.
 */
import net from "node:net";
import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { resourceUrn } from "../../cli/program/engine-protocol";
import {
  startLocalEngine,
  type EngineLog,
  type EngineProviders,
  type LocalEngine,
  type ResourceRequest,
} from "../../cli/program/local-engine";

const SIG = pulumi.runtime.specialSigKey;
const SECRET = pulumi.runtime.specialSecretSig;

/** A custom resource of a package nobody installed: the engine's providers answer for it. */
class Thing extends pulumi.CustomResource {
  constructor(type: string, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(type, name, props, opts);
  }
}

/** A component that registers the outputs it is given, as a component's constructor ends. */
class Parent extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:Parent", name);
  }
  finish(outputs: pulumi.Inputs): void {
    this.registerOutputs(outputs);
  }
}

const started: LocalEngine[] = [];
test.after.always(async () => {
  await Promise.all(started.map((engine) => engine.close()));
});

/** Records what each resource asked; answers with its inputs plus `computed`, ids `<name>-id`. */
function recordingProviders(asked: ResourceRequest[] = []): EngineProviders {
  return {
    newResource(request) {
      asked.push(request);
      return { id: `${request.name}-id`, state: { ...request.inputs, computed: `${request.name}-computed` } };
    },
    call({ token, inputs }) {
      if (token === "test:index:lookup") return { doubled: Number(inputs.value) * 2 };
      throw new Error(`no answer for ${token}`);
    },
  };
}

async function engineFor(providers: EngineProviders, onLog?: (log: EngineLog) => void): Promise<LocalEngine> {
  const engine = await startLocalEngine({ project: "proj", stack: "dev", providers, onLog });
  started.push(engine);
  return engine;
}

test("URNs as the Pulumi engine makes them: parent types qualify, the root stack's does not", (t) => {
  const stack = "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev";
  const parent = "urn:pulumi:dev::proj::my:index:Parent::p";
  const child = "urn:pulumi:dev::proj::my:index:Parent$aws:s3/bucket:Bucket::b";
  const rows: Array<[string, string, string]> = [
    ["", "pulumi:pulumi:Stack", "urn:pulumi:dev::proj::pulumi:pulumi:Stack::n"],
    [stack, "my:index:Parent", "urn:pulumi:dev::proj::my:index:Parent::n"],
    [parent, "aws:s3/bucket:Bucket", "urn:pulumi:dev::proj::my:index:Parent$aws:s3/bucket:Bucket::n"],
    [
      child,
      "aws:s3/bucketPolicy:BucketPolicy",
      `urn:pulumi:dev::proj::my:index:Parent$aws:s3/bucket:Bucket$aws:s3/bucketPolicy:BucketPolicy::n`,
    ],
  ];
  for (const [parentUrn, type, expected] of rows)
    t.is(resourceUrn("dev", "proj", parentUrn, type, "n"), expected);
});

test.serial(
  "records each registration as the engine saw it and answers with the providers' state",
  async (t) => {
    const asked: ResourceRequest[] = [];
    const engine = await engineFor(recordingProviders(asked));
    engine.connect();
    let computed: unknown;
    await pulumi.runtime.runInPulumiStack(async () => {
      const parent = new Parent("parent");
      const a = new Thing(
        "test:index:Thing",
        "a",
        { plain: "x", password: pulumi.secret("s"), computed: undefined },
        { parent, additionalSecretOutputs: ["computed"] },
      );
      const b = new Thing("test:index:Thing", "b", { fromA: a.id }, { dependsOn: [parent] });
      parent.finish({ thing: a.id, hidden: pulumi.secret("h") });
      (a as unknown as { computed: pulumi.Output<string> }).computed.apply((value) => (computed = value));
      return { exported: b.urn };
    });
    await engine.settle();

    const root = "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev";
    const parentUrn = "urn:pulumi:dev::proj::test:index:Parent::parent";
    const aUrn = "urn:pulumi:dev::proj::test:index:Parent$test:index:Thing::a";
    const bUrn = "urn:pulumi:dev::proj::test:index:Thing::b";
    t.is(engine.root.urn, root);
    t.deepEqual(engine.root.rawOutputs, { exported: bUrn });
    t.deepEqual(
      engine.registrations.map((r) => [r.urn, r.parent, r.custom, r.id]).sort(),
      [
        [aUrn, parentUrn, true, "a-id"],
        [bUrn, root, true, "b-id"],
        [parentUrn, root, false, ""],
      ].sort(),
    );
    const a = engine.registrations.find((r) => r.name === "a")!;
    t.deepEqual(a.rawInputs, { plain: "x", password: { [SIG]: SECRET, value: "s" } });
    t.deepEqual(a.inputs, { plain: "x", password: { [SIG]: SECRET, value: "s" } });
    t.deepEqual(a.additionalSecretOutputs, ["computed"]);
    t.deepEqual(a.state, { plain: "x", password: { [SIG]: SECRET, value: "s" }, computed: "a-computed" });
    t.is(computed, "a-computed");
    const b = engine.registrations.find((r) => r.name === "b")!;
    t.deepEqual(b.rawInputs, { fromA: "a-id" });
    // Depending on a component is depending on its children, as the SDK expands it.
    t.deepEqual(b.dependencies, [aUrn]);
    t.deepEqual(b.propertyDependencies, { fromA: [aUrn] });
    t.deepEqual(engine.registrations.find((r) => r.name === "parent")!.rawOutputs, {
      thing: "a-id",
      hidden: { [SIG]: SECRET, value: "h" },
    });
    // The providers were asked once per resource, with the parent each was registered under.
    t.deepEqual(asked.map((r) => [r.name, r.parent, r.custom]).sort(), [
      ["a", parentUrn, true],
      ["b", root, true],
      ["parent", root, false],
    ]);
  },
);

test.serial("the stack's settings and config reach the program as under pulumi up", async (t) => {
  const engine = await engineFor(recordingProviders());
  engine.connect({
    organization: "acme",
    config: { "proj:greeting": "hi", "proj:password": "hunter2" },
    secretKeys: ["proj:password"],
  });
  const seen = await pulumi.runtime.runInPulumiStack(async () => {
    const config = new pulumi.Config();
    const password = config.requireSecret("password");
    return {
      organization: pulumi.getOrganization(),
      project: pulumi.getProject(),
      stack: pulumi.getStack(),
      dryRun: pulumi.runtime.isDryRun(),
      greeting: config.get("greeting"),
      passwordIsSecret: await pulumi.isSecret(password),
    };
  });
  await engine.settle();
  t.deepEqual(seen, {
    organization: "acme",
    project: "proj",
    stack: "dev",
    dryRun: false,
    greeting: "hi",
    passwordIsSecret: true,
  });
});

test.serial("invokes: the providers' answer, and their error as the program's error", async (t) => {
  const engine = await engineFor(recordingProviders());
  engine.connect();
  const outcome = await pulumi.runtime.runInPulumiStack(async () => {
    const answer = (await pulumi.runtime.invoke("test:index:lookup", { value: 21 })) as { doubled: number };
    const failure = await pulumi.runtime.invoke("test:index:unknown", {}).then(
      () => "resolved",
      (error: Error) => error.message,
    );
    return { doubled: answer.doubled, failure };
  });
  await engine.settle();
  t.deepEqual(outcome, { doubled: 42, failure: "no answer for test:index:unknown" });
});

test.serial("the program's log messages reach the engine with their severity", async (t) => {
  const received: EngineLog[] = [];
  const engine = await engineFor(recordingProviders(), (log) => received.push(log));
  engine.connect();
  await pulumi.runtime.runInPulumiStack(async () => {
    await pulumi.log.info("hello");
    await pulumi.log.warn("careful");
  });
  await engine.settle();
  const shown = received.filter((log) => log.severity !== "debug").map((log) => [log.severity, log.message]);
  t.deepEqual(shown, [
    ["info", "hello"],
    ["warning", "careful"],
  ]);
  t.deepEqual(engine.logs, received);
});

test.serial("settle waits for a registration the engine has not answered yet", async (t) => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let asked!: () => void;
  const wasAsked = new Promise<void>((resolve) => (asked = resolve));
  const engine = await engineFor({
    async newResource(request) {
      asked();
      await held;
      return { id: "slow-id", state: request.inputs };
    },
    call: () => ({}),
  });
  engine.connect();
  await pulumi.runtime.runInPulumiStack(async () => {
    new Thing("test:index:Slow", "slow", {});
  });
  let settled = false;
  const settling = engine.settle().then(() => (settled = true));
  await wasAsked;
  await new Promise((resolve) => setImmediate(resolve));
  t.false(settled);
  t.deepEqual(engine.registrations, []);
  release();
  await settling;
  t.deepEqual(
    engine.registrations.map((r) => r.id),
    ["slow-id"],
  );
});

test.serial(
  "each engine serves 127.0.0.1 on a port of its own; close is idempotent and stops serving",
  async (t) => {
    const one = await engineFor(recordingProviders());
    const two = await engineFor(recordingProviders());
    t.regex(one.address, /^127\.0\.0\.1:\d+$/);
    t.not(one.address, two.address);
    await Promise.all([one.close(), one.close()]);
    await one.close();
    const port = Number(one.address.split(":")[1]);
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    });
    t.is(refused, "ECONNREFUSED");
    await two.close();
  },
);
