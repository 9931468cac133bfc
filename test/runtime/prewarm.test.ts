import { watch } from "node:fs";
import { readFile } from "node:fs/promises";
import test from "ava";
import { FunctionBuilder, type GoodBuild } from "../../cli/runtime/builder";
import { WorkerPool, type InvokeRequest, type LogEvent } from "../../cli/runtime/worker-pool";
import { localEnvironment } from "../../core/local-environment";
import { tempProject, type TempProject } from "./temp-project";

/**
 * A handler that says which version it is, when its module loaded, and notes each load in a file
 * (`LOADS`): the test sees a worker load a build before any invocation reaches it.
 */
function versionSource(version: string): string {
  return [
    "import { appendFileSync } from 'node:fs';",
    "const loadedAt = Date.now();",
    `console.log('init ${version}');`,
    `appendFileSync(process.env.LOADS!, '${version}\\n');`,
    "export const handler = async (event: { ms?: number }) => {",
    "  await new Promise((resolve) => setTimeout(resolve, event.ms ?? 0));",
    `  return { version: '${version}', loadedAt };`,
    "};",
    "export const env = async () => Object.fromEntries(Object.entries(process.env).sort());",
  ].join("\n");
}

interface World {
  project: TempProject;
  builder: FunctionBuilder;
  pool: WorkerPool;
  logs: LogEvent[];
  v1: GoodBuild;
  request(build: GoodBuild, more?: Partial<InvokeRequest>): InvokeRequest;
  /** Resolves once the loads file lists `version` (bounded; woken by the file's changes). */
  loaded(version: string): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;

async function world(spareWorkers = false): Promise<World> {
  const project = await tempProject({ "src/fn.ts": versionSource("v1"), "loads.log": "" });
  const builder = new FunctionBuilder({
    name: "fn",
    entry: project.path("src/fn.ts"),
    exportName: "handler",
    outDir: project.path(".pulumi-live/build/fn"),
    watch: false,
    cwd: project.root,
  });
  const v1 = await builder.start();
  if (!v1.ok) throw new Error(v1.error);
  const logs: LogEvent[] = [];
  const pool = new WorkerPool({ concurrency: 4, onLog: (e) => logs.push(e), spareWorkers });
  const loads = project.path("loads.log");
  const environment = localEnvironment({ PATH: process.env.PATH }, { LOADS: loads });
  return {
    project,
    builder,
    pool,
    logs,
    v1,
    request: (build, more = {}) => ({
      functionName: "fn",
      envId: "env-1",
      build,
      exportName: "handler",
      event: {},
      context: {
        awsRequestId: `req-${++counter}`,
        functionName: "fn",
        functionVersion: "$LATEST",
        invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:fn",
        memoryLimitInMB: "128",
        logGroupName: "/aws/lambda/fn",
        logStreamName: "stream",
      },
      deadline: Date.now() + 10_000,
      environment,
      ...more,
    }),
    loaded: (version) =>
      new Promise<void>((resolve, reject) => {
        const check = async () => {
          if ((await readFile(loads, "utf8")).split("\n").includes(version)) finish();
        };
        const watcher = watch(loads, () => void check().catch(finish));
        const timer = setTimeout(() => finish(new Error(`${version} never loaded`)), 10_000);
        function finish(error?: unknown): void {
          watcher.close();
          clearTimeout(timer);
          if (error) reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
          else resolve();
        }
        void check().catch(finish);
      }),
    async close() {
      await pool.close();
      await builder.dispose();
      await project.remove();
    },
  };
}

async function edit(w: World, version: string): Promise<GoodBuild> {
  await w.project.write({ "src/fn.ts": versionSource(version) });
  const build = await w.builder.rebuild();
  if (!build.ok) throw new Error(build.error);
  return build;
}

test("a new build's worker loads it as soon as the build is announced, before the next invocation", async (t) => {
  const w = await world();
  try {
    t.like(await w.pool.invoke(w.request(w.v1)), { ok: true, result: { version: "v1" }, coldStart: true });
    const v2 = await edit(w, "v2");
    w.pool.prewarm("fn", v2);
    await w.loaded("v2");
    const asked = Date.now();
    const req = w.request(v2);
    const next = await w.pool.invoke(req);
    t.like(next, { ok: true, result: { version: "v2" }, coldStart: true });
    // Loaded before the invocation was asked for: the invocation found the new code waiting.
    t.true((next as { result: { loadedAt: number } }).result.loadedAt <= asked);
    // What the module printed while loading is the log of the invocation that found it loaded.
    t.true(next.logs.includes("init v2"));
    const init = w.logs.find((e) => e.line.includes("init v2"));
    t.is(init?.requestId, req.context.awsRequestId);
  } finally {
    await w.close();
  }
});

test("an invocation in flight at the announcement finishes on the old code; the next runs the new", async (t) => {
  const w = await world();
  try {
    await w.pool.invoke(w.request(w.v1));
    const inFlight = w.pool.invoke(w.request(w.v1, { event: { ms: 400 } }));
    const v2 = await edit(w, "v2");
    w.pool.prewarm("fn", v2);
    const next = await w.pool.invoke(w.request(v2));
    t.like(next, { ok: true, result: { version: "v2" } });
    t.like(await inFlight, { ok: true, result: { version: "v1" } });
  } finally {
    await w.close();
  }
});

test("an invocation holding the previous build runs it, and leaves the new build's worker in place", async (t) => {
  const w = await world();
  try {
    await w.pool.invoke(w.request(w.v1));
    const v2 = await edit(w, "v2");
    w.pool.prewarm("fn", v2);
    await w.loaded("v2");
    const late = Date.now();
    // It got v1 from the builder before v2 was announced, and reaches the pool only now.
    t.like(await w.pool.invoke(w.request(w.v1)), { ok: true, result: { version: "v1" } });
    const next = await w.pool.invoke(w.request(v2));
    t.like(next, { ok: true, result: { version: "v2" }, coldStart: true });
    t.true((next as { result: { loadedAt: number } }).result.loadedAt <= late);
  } finally {
    await w.close();
  }
});

test("each build replaces the environment's worker again: one worker, with the newest code", async (t) => {
  const w = await world();
  try {
    await w.pool.invoke(w.request(w.v1, { envId: "env-a" }));
    const v2 = await edit(w, "v2");
    w.pool.prewarm("fn", v2);
    await w.loaded("v2");
    const v3 = await edit(w, "v3");
    w.pool.prewarm("fn", v3);
    const next = await w.pool.invoke(w.request(v3, { envId: "env-a" }));
    t.like(next, { ok: true, result: { version: "v3" }, coldStart: true });
    // Each build replaced the one worker of env-a: never two at once for it, nothing left of v1 or v2.
    t.is(w.pool.stats().workers, 1);
  } finally {
    await w.close();
  }
});

test("with spare workers, each function still sees exactly its own environment", async (t) => {
  const w = await world(true);
  try {
    const first = w.request(w.v1, { exportName: "env" });
    const seen = await w.pool.invoke(first);
    t.like(seen, { ok: true, coldStart: true });
    t.deepEqual((seen as { result: unknown }).result, { ...first.environment });
    // A second function (a spare waits by now: it was started once the first worker loaded).
    const other = localEnvironment(
      { PATH: process.env.PATH },
      { LOADS: w.project.path("loads.log"), ONLY: "b" },
    );
    const second = w.request(w.v1, {
      exportName: "env",
      functionName: "other",
      envId: "env-b",
      environment: other,
    });
    const seenOther = await w.pool.invoke(second);
    t.like(seenOther, { ok: true, coldStart: true });
    t.deepEqual((seenOther as { result: unknown }).result, { ...other });
  } finally {
    await w.close();
  }
});
