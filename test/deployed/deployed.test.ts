/**
 * The deployed path end to end on one machine: the demo program deployed live under Pulumi mocks, each
 * function's archive run in a Lambda-like host with its environment and its role's credentials, and
 * `pulumi-live serve` in stack mode, all through the AWS IoT Core stand-in (TLS, SigV4, IAM, quotas).
 */
import test from "ava";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { awsCredentials } from "../../cli/aws/credentials";
import { startStackServer } from "../../cli/commands/serve-stack";
import { Reassembler } from "../../protocol";
import { PUBLIC_UNAVAILABLE_MESSAGE } from "../../stub/http-event";
import { noSessionMessage } from "../../stub/relay";
import { RecordingReporter } from "../helpers/recorder";
import { demoProject, fakePulumi, writeExports } from "../discovery/fake-pulumi";
import { addIdentity, connectAs } from "../iot-core/clients";
import { motoAvailable, startMoto, type Moto } from "../iot-core/moto";
import { IotCoreStandIn } from "../iot-core/stand-in";
import { readDeployment, outputsOf, type DeployedFunction } from "./deployment";
import { functionUrlEvent, scheduledEvent, sqsBatchEvent } from "./events";
import { cliEnv, functionHost, invoke, readmePolicy, roleIdentity, spawnPulumiLive } from "./harness";

let dir: string;
let exportFile: string;
let standIn: IotCoreStandIn;
let moto: Moto | undefined;
let fns: Record<string, DeployedFunction>;
let project: { root: string; remove(): Promise<void> };
let pulumiEnv: NodeJS.ProcessEnv;
let removePulumi: () => Promise<void>;

test.before(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-deployed-")));
  exportFile = (await writeExports(dir)).live;
  fns = Object.fromEntries((await readDeployment(exportFile)).map((fn) => [fn.name, fn]));
  standIn = await IotCoreStandIn.start({ region: "eu-west-1", accountId: "123456789012" });
  moto = motoAvailable() ? await startMoto() : undefined;
  project = await demoProject();
  const pulumi = await fakePulumi({ export: exportFile });
  pulumiEnv = pulumi.env;
  removePulumi = pulumi.remove;
});
test.after.always(async () => {
  await standIn?.close();
  await moto?.close();
  await project?.remove();
  await removePulumi?.();
  await rm(dir, { recursive: true, force: true });
});

const endpointArgs = () => ["--endpoint", standIn.endpoint, "--ca-file", standIn.caFile];

test.serial(
  "a function URL request, an SQS batch and a schedule run live through serve and the IoT Core stand-in",
  async (t) => {
    t.log(
      moto
        ? "function credentials: moto STS AssumeRole"
        : "function credentials: static (moto_server not installed)",
    );
    const dev = await addIdentity(standIn, "arn:aws:iam::123456789012:user/dev", {
      "pulumi-live": await readmePolicy(),
    });
    const env = cliEnv(pulumiEnv, dev, dir);
    const serve = spawnPulumiLive(
      t,
      ["serve", "--stack", "dev", "--cwd", project.root, "--no-watch", "--json", ...endpointArgs()],
      env,
    );
    const ready = await serve.next((l) => l.type === "ready");
    t.is(ready.broker, standIn.endpoint);

    const hosts = Object.fromEntries(
      await Promise.all(
        Object.values(fns).map(
          async (fn) =>
            [fn.name, await functionHost(fn, standIn, await roleIdentity(standIn, fn, moto), dir)] as const,
        ),
      ),
    );
    t.teardown(() => Promise.all(Object.values(hosts).map((h) => h.close())));

    const { apiUrl } = await outputsOf(exportFile, "pulumi:pulumi:Stack");
    const http = await invoke(hosts.api, functionUrlEvent(apiUrl, { name: "Ada" }));
    t.is(http.functionError, undefined, http.payload.toString());
    const response = http.value as { statusCode: number; headers: Record<string, string>; body: string };
    t.is(response.statusCode, 200);
    t.is(response.headers["content-type"], "application/json");
    t.is(JSON.parse(response.body).greeting, "Hello, Ada!");

    const queue = await outputsOf(exportFile, "aws:sqs/queue:Queue");
    const batch = await invoke(hosts.worker, sqsBatchEvent(queue.arn, ["first", "second"]));
    t.deepEqual(batch.value, { batchItemFailures: [] });
    // The handler's logs travel back and land in the function's own log.
    t.regex(batch.logTail ?? "", /message 00000000-0000-4000-8000-000000000000: first/);
    t.regex(batch.logTail ?? "", /message 00000000-0000-4000-8000-000000000001: second/);

    const rule = await outputsOf(exportFile, "aws:cloudwatch/eventRule:EventRule");
    const cron = await invoke(hosts.cron, scheduledEvent(rule.arn, "2025-06-01T12:05:00Z"));
    t.is(cron.value, null);
    t.regex(cron.logTail ?? "", /scheduled event at 2025-06-01T12:05:00Z/);

    const results = serve.lines.filter((l) => l.type === "result");
    t.deepEqual(results.map((l) => l.name).sort(), ["api", "cron", "worker"]);

    const status = spawnPulumiLive(
      t,
      ["status", "--stack", "dev", "--cwd", project.root, "--json", ...endpointArgs()],
      env,
    );
    t.deepEqual(await status.exited, [0, null], status.stderr());
    t.like(JSON.parse(status.stdout()).session, { state: "online", functions: ["api", "worker", "cron"] });

    const policy = spawnPulumiLive(t, ["policy", "--stack", "dev", "--cwd", project.root], env);
    t.deepEqual(await policy.exited, [0, null], policy.stderr());
    t.deepEqual(JSON.parse(policy.stdout()), await readmePolicy());

    // Everything was within the policies and the quotas.
    t.deepEqual(
      standIn.events.filter((e) => e.type === "denied" || e.type === "throttled"),
      [],
    );

    serve.child.kill("SIGTERM");
    t.deepEqual(await serve.exited, [0, null]);
    const after = await invoke(hosts.api, functionUrlEvent(apiUrl, { name: "Bob" }));
    const unavailable = after.value as { statusCode: number; body: string };
    t.is(unavailable.statusCode, 503);
    // The caller gets a plain 503; the function's log says why and what to run.
    t.is(JSON.parse(unavailable.body).message, PUBLIC_UNAVAILABLE_MESSAGE);
    t.true((after.logTail ?? "").includes(noSessionMessage("pulumi-live-demo/dev", "api")), after.logTail);
  },
);

test.serial("one function's role can neither read another's responses nor send its requests", async (t) => {
  const api = await roleIdentity(standIn, fns.api, moto);
  const { PULUMI_LIVE_PREFIX: prefix, PULUMI_LIVE_CLIENT_PREFIX: clientPrefix } = fns.api.environment;
  const spy = await connectAs(standIn, api, { clientId: `${clientPrefix}spy` });
  t.teardown(() => spy.endAsync(true));
  for (const filter of [`${prefix}/res/worker/+`, `${prefix}/res/#`, `${prefix}/req/+`]) {
    const refused = await spy.subscribeAsync(filter, { qos: 1 }).then(
      (granted) => granted.map((g) => g.qos),
      (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
    );
    t.deepEqual(refused, [128], filter);
    await standIn.event((e) => e.type === "denied" && e.resource === standIn.arn("topicfilter", filter));
  }
  // Its own responses it may read.
  t.deepEqual(
    (await spy.subscribeAsync(`${prefix}/res/api/spy`, { qos: 1 })).map((g) => g.qos),
    [1],
  );

  // Publishing another function's request: IoT Core closes the connection.
  const closed = new Promise<void>((resolve) => spy.once("close", () => resolve()));
  spy.publish(`${prefix}/req/worker`, Buffer.from("x"), { qos: 1 });
  await closed;
  const denied = await standIn.event((e) => e.type === "denied" && e.action === "iot:Publish");
  t.is(denied.resource, standIn.arn("topic", `${prefix}/req/worker`));
});

test.serial(
  "a developer identity without the policy is told which permission is missing and how to get it",
  async (t) => {
    const none = await addIdentity(standIn, "arn:aws:iam::123456789012:user/newcomer", {});
    const refused = spawnPulumiLive(
      t,
      ["serve", "--stack", "dev", "--cwd", project.root, "--no-watch", "--json", ...endpointArgs()],
      cliEnv(pulumiEnv, none, dir),
    );
    t.deepEqual(await refused.exited, [2, null]);
    const { sessionClientPrefix } = await outputsOf(exportFile, "pulumi-live:index:Session");
    const clientArn = standIn.arn("client", sessionClientPrefix);
    t.regex(
      refused.stderr(),
      /your AWS identity needs iot:Connect on arn:aws:iot:eu-west-1:123456789012:client\//,
    );
    t.true(refused.stderr().includes(clientArn), refused.stderr());
    t.regex(refused.stderr(), /LastWill/);
    t.regex(refused.stderr(), /pulumi-live policy --stack dev/);

    // Allowed to connect, not to subscribe: the message names iot:Subscribe and the filter.
    const readme = await readmePolicy();
    const connectOnly = { ...readme, Statement: readme.Statement.slice(0, 1) };
    const partial = await addIdentity(standIn, "arn:aws:iam::123456789012:user/halfway", {
      connect: connectOnly,
    });
    const halfway = spawnPulumiLive(
      t,
      ["serve", "--stack", "dev", "--cwd", project.root, "--no-watch", "--json", ...endpointArgs()],
      cliEnv(pulumiEnv, partial, dir),
    );
    t.deepEqual(await halfway.exited, [2, null]);
    t.regex(
      halfway.stderr(),
      /needs iot:Subscribe on arn:aws:iot:eu-west-1:123456789012:topicfilter\/\$share\/[0-9a-f]+\/pulumi-live\/acme\/pulumi-live-demo\/dev\/0a1b2c3d4e5f\/req\/\+/,
    );
    t.regex(halfway.stderr(), /pulumi-live policy --stack dev/);
  },
);

test.serial("an expired credential is renewed on reconnect", async (t) => {
  // The developer's first credentials expire within serve's refresh margin (5 minutes) in 3 s; the next
  // ones last an hour. The stand-in refuses the first once they have expired.
  const readme = await readmePolicy();
  const first = await addIdentity(
    standIn,
    "arn:aws:iam::123456789012:user/dev",
    { readme },
    { temporary: true },
  );
  const second = await addIdentity(
    standIn,
    "arn:aws:iam::123456789012:user/dev",
    { readme },
    { temporary: true },
  );
  const issued: string[] = [];
  const credentials = awsCredentials({
    provider: async () => {
      const next = issued.length === 0 ? first : second;
      issued.push(next.accessKeyId);
      const expiration = new Date(Date.now() + (next === first ? 300_000 + 3_000 : 3600_000));
      return { ...next, sessionToken: next.sessionToken!, expiration };
    },
  });
  const reporter = new RecordingReporter();
  const server = await startStackServer({
    stack: "dev",
    cwd: project.root,
    only: ["worker"],
    env: pulumiEnv,
    credentials,
    endpoint: { host: "localhost", port: standIn.port, caFile: standIn.caFile },
    connections: 2,
    watch: false,
    record: false,
    reporter,
  });
  t.teardown(server.close);
  const worker = await functionHost(fns.worker, standIn, await roleIdentity(standIn, fns.worker, moto), dir);
  t.teardown(() => worker.close());
  const queue = await outputsOf(exportFile, "aws:sqs/queue:Queue");
  t.deepEqual((await invoke(worker, sqsBatchEvent(queue.arn, ["before"]))).value, { batchItemFailures: [] });

  await new Promise((resolve) => setTimeout(resolve, 3_500));
  standIn.principals.expire(first.accessKeyId);
  const cli = `${server.stack.session.sessionClientPrefix}${server.session.sessionId}`;
  const resumed = [1, 2].map((n) =>
    reporter.next(
      (e) =>
        e.type === "status" && e.kind === "connection" && e.connection === `${n}/2` && e.state === "resumed",
      20_000,
    ),
  );
  // The session announces itself again once back: a new frame (stubs drop a repeated one as a duplicate),
  // which the stub has once it acknowledges it.
  const topic = `${server.stack.session.prefix}/presence`;
  const before = await standIn.retained(topic);
  const stub = fns.worker.environment.PULUMI_LIVE_CLIENT_PREFIX;
  const announced = standIn.acked((client, at, payload) => {
    if (!client.startsWith(stub) || at !== topic || payload.equals(before!)) return false;
    const message = new Reassembler(server.stack.session.key).push(at, payload);
    return message?.type === "presence" && message.online;
  }, 20_000);
  t.is(
    standIn.drop((id) => id.startsWith(cli)),
    2,
  );
  await Promise.all([...resumed, announced]);

  // A test's provider is asked on every connect (only the default chain caches): each connection asks it
  // again; what matters is that the first keys were used until they expired, and only the renewed ones after.
  t.deepEqual([...new Set(issued)], [first.accessKeyId, second.accessKeyId]);
  t.is(issued.lastIndexOf(first.accessKeyId), issued.indexOf(second.accessKeyId) - 1);
  t.false(standIn.events.some((e) => e.type === "refused" && /expired/.test(e.reason)));
  t.deepEqual((await invoke(worker, sqsBatchEvent(queue.arn, ["after"]))).value, { batchItemFailures: [] });
});
