import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import { startLocalRuntime, type LocalRuntime } from "../../cli/commands/local-runtime";
import { Teardown } from "../../cli/teardown";
import { localEnvironment } from "../../core/local-environment";
import { RecordingReporter } from "../helpers/recorder";
import { tempProject, type TempProject } from "../runtime/temp-project";

let project: TempProject;
test.before(async () => {
  project = await tempProject({ "src/api.ts": "export const handler = async () => 'served';\n" });
});
test.after.always(() => project?.remove());

/** A runtime serving src/api.ts as function id `fn-1`; `close` runs its teardown as serve does. */
async function runtime(): Promise<LocalRuntime & { close(): Promise<void> }> {
  const cleanup = new Teardown();
  const started = await startLocalRuntime({
    functions: [{ name: "api", functionId: "fn-1", file: project.path("src/api.ts"), exportName: "handler" }],
    root: project.root,
    watch: false,
    concurrency: 1,
    record: false,
    reporter: new RecordingReporter(),
    cleanup,
  });
  const close = async () => {
    const failures: string[] = [];
    await cleanup.run((what, error) => failures.push(`closing ${what} failed: ${String(error)}`));
    if (failures.length > 0) throw new Error(failures.join("; "));
  };
  return { ...started, close };
}

/** Runs the handler in a fresh environment, so a new worker loads the current build file. */
async function invoke(served: LocalRuntime, envId: string): Promise<unknown> {
  const build = await served.builders.get("api")!.ready();
  if (!build.ok) throw new Error(build.error);
  const outcome = await served.pool.invoke({
    functionName: "api",
    envId,
    build,
    exportName: "handler",
    event: {},
    context: {
      awsRequestId: `req-${envId}`,
      functionName: "api",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:api",
      memoryLimitInMB: "128",
      logGroupName: "/aws/lambda/api",
      logStreamName: "stream",
    },
    deadline: Date.now() + 10_000,
    environment: localEnvironment({}, {}),
  });
  return outcome.ok ? outcome.result : outcome.error;
}

test.serial(
  "two serves of one project build into their own folders, and each removes only its own",
  async (t) => {
    const first = await runtime();
    t.teardown(() => first.close());
    const firstBuild = await first.builders.get("api")!.ready();
    const second = await runtime();
    t.teardown(() => second.close());
    const secondBuild = await second.builders.get("api")!.ready();
    if (!firstBuild.ok || !secondBuild.ok) return t.fail("both builds should succeed");

    const folders = (await readdir(project.path(".pulumi-live/build/fn-1"))).sort();
    t.is(folders.length, 2);
    for (const folder of folders) t.regex(folder, new RegExp(`^${process.pid}-\\d+$`));
    t.not(firstBuild.file, secondBuild.file);
    t.true(existsSync(firstBuild.file));
    t.is(await invoke(first, "env-1"), "served");

    await second.close();
    t.false(existsSync(secondBuild.file));
    t.true(existsSync(firstBuild.file));
    t.is(await invoke(first, "env-2"), "served");
    await first.close();
    t.deepEqual(await readdir(project.path(".pulumi-live/build/fn-1")), []);
  },
);

test.serial(
  "a serve removes the build folders a killed serve or replay left behind, and only those",
  async (t) => {
    // A process that has exited: its pid names folders nobody will remove.
    const gone = spawn(process.execPath, ["-e", ""]);
    const pid = gone.pid;
    await once(gone, "exit");
    const stale = [`.pulumi-live/build/fn-1/${pid}-1/3`, `.pulumi-live/build/replay/api/${pid}`];
    const alive = `.pulumi-live/build/fn-1/${process.pid}-77/1`;
    for (const folder of [...stale, alive]) await mkdir(project.path(folder), { recursive: true });
    const served = await runtime();
    t.teardown(() => served.close());
    t.false(existsSync(project.path(`.pulumi-live/build/fn-1/${pid}-1`)));
    t.false(existsSync(project.path(`.pulumi-live/build/replay/api/${pid}`)));
    t.true(existsSync(project.path(alive)));
    await served.close();
    await rm(project.path(path.dirname(alive)), { recursive: true, force: true });
  },
);
