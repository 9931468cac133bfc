import { demoProject, fakePulumi } from "../discovery/fake-pulumi";
import { addIdentity } from "../iot-core/clients";
import { IotCoreStandIn } from "../iot-core/stand-in";
import { startStubDriver, type DriverConfig } from "../iot-core/stub-driver";
import { readDeployment } from "./deployment";
import { cliEnv, readmePolicy, roleIdentity, spawnPulumiLive } from "./harness";

/**
 * The deployed demo's `worker` served through the AWS IoT Core stand-in, as the load tests use it: a fresh
 * stand-in, the developer with the README's policy, the demo project with `workerSource` as the worker's
 * handler, a fake `pulumi` that exports `exportFile`, `pulumi-live serve` in a process of its own (as a
 * developer runs it: the stand-in, the session and the stubs each get a core's worth of time), and a
 * driver of the worker's stub relays with the function role's credentials. Everything is torn down with
 * the test.
 */
export async function workerThroughStandIn(
  t: { teardown(fn: () => unknown): void },
  options: {
    exportFile: string;
    dir: string;
    workerSource: string;
    relays: number;
    /** More variables of the worker's environment, from the project's folder. */
    environment?: (projectRoot: string) => Record<string, string>;
  },
) {
  const standIn = await IotCoreStandIn.start();
  t.teardown(() => standIn.close());
  const worker = (await readDeployment(options.exportFile)).find((fn) => fn.name === "worker")!;
  const developer = await addIdentity(standIn, "arn:aws:iam::123456789012:user/dev", {
    readme: await readmePolicy(),
  });
  const project = await demoProject({ worker: options.workerSource });
  t.teardown(project.remove);
  const pulumi = await fakePulumi({ export: options.exportFile });
  t.teardown(pulumi.remove);
  const serve = spawnPulumiLive(
    t,
    [
      ...["serve", "--stack", "dev", "--cwd", project.root, "--only", "worker"],
      ...["--no-watch", "--no-record", "--json"],
      ...["--endpoint", standIn.endpoint, "--ca-file", standIn.caFile],
    ],
    cliEnv(pulumi.env, developer, options.dir),
  );
  await serve.next((l) => l.type === "ready");
  const env = worker.environment;
  const config: DriverConfig = {
    stub: {
      prefix: env.PULUMI_LIVE_PREFIX,
      functionId: env.PULUMI_LIVE_FUNCTION_ID,
      key: env.PULUMI_LIVE_KEY,
      clientPrefix: env.PULUMI_LIVE_CLIENT_PREFIX,
      stack: env.PULUMI_LIVE_STACK,
    },
    endpoint: standIn.endpoint,
    region: standIn.region,
    credentials: await roleIdentity(standIn, worker),
    relays: options.relays,
  };
  if (options.environment) config.environment = options.environment(project.root);
  const driver = await startStubDriver(config, standIn.caFile);
  t.teardown(driver.close);
  return { standIn, project, serve, driver };
}
