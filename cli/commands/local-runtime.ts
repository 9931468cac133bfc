import path from "node:path";
import {
  deadlinePassedMessage,
  inspectorActive,
  openInspector,
  type InspectAddress,
} from "../debug/inspector";
import { InvocationRecorder } from "../record/recorder";
import type { Reporter } from "../reporter";
import { FunctionBuilder, type BuildResult } from "../runtime/builder";
import { isPythonFile } from "../../core/python";
import type { PythonBuilder } from "../runtime/python/python-builder";
import { pythonFunctionBuilder } from "../runtime/python/python-function";
import { WorkerPool } from "../runtime/worker-pool";
import { removeStaleBuilds } from "../runtime/stale-builds";
import type { ServedFunction } from "../session";
import type { Teardown } from "../teardown";

/** One function to serve from local source. */
export interface LocalSource {
  name: string;
  functionId: string;
  /** Absolute path of the handler's source file. */
  file: string;
  exportName: string;
  /** The function's Lambda runtime, when the stack recorded it (`python3.12`). */
  runtime?: string;
}

/** Builds one function's handler: esbuild for Node.js, versions of the source folder for Python. */
export type LocalBuilder = FunctionBuilder | PythonBuilder;

export interface LocalRuntimeOptions {
  functions: LocalSource[];
  /** The project folder: builds go to `.pulumi-live/build`, records to `.pulumi-live/log`. */
  root: string;
  watch: boolean;
  concurrency: number;
  /** Open the debugger here; it is also on when the process already has an inspector open. */
  inspect?: InspectAddress;
  /** Records kept per function, or `false` for none. */
  record: number | false;
  /** The developer's explicit local variables, over every function's (see `localVariables`). */
  localVariables?: Record<string, string>;
  /** `--python PATH`: the interpreter of Python handlers (else the project's .venv, else python3). */
  python?: string;
  reporter: Reporter;
  /** Teardown steps, run in reverse order by the caller's close(). */
  cleanup: Teardown;
}

export interface LocalRuntime {
  builders: Map<string, LocalBuilder>;
  served: ServedFunction[];
  pool: WorkerPool;
  recorder?: InvocationRecorder;
  /** The debugger's WebSocket URL, when debugging. */
  inspector?: string;
}

/** Runtimes started in this process, to name each one's build folder. */
let runtimes = 0;

/**
 * What both serve modes run on this machine: the debugger when asked for, the invocation record, one
 * watched build per function and the worker pool. Each part registers its teardown in `cleanup`.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { reporter, cleanup } = options;
  // A builder empties and removes its folder: each serve of a project (each process, each runtime in
  // it) builds into its own, so concurrent serves never delete each other's builds.
  const buildId = `${process.pid}-${++runtimes}`;
  // A serve that was killed could not remove its builds: the next one does.
  await removeStaleBuilds(options.root).catch((error: unknown) =>
    reporter.status({ message: `could not remove old build folders: ${String(error)}` }),
  );
  const debugging = options.inspect !== undefined || inspectorActive();
  const inspector = debugging ? openInspector(options.inspect) : undefined;
  const recorder =
    options.record === false
      ? undefined
      : new InvocationRecorder({
          root: options.root,
          keep: options.record,
          onError: (message) => reporter.status({ message }),
        });
  // Registered first, so it runs last: after the session has answered what was in flight.
  if (recorder) cleanup.add("the invocation records", () => recorder.flush());

  const builders = new Map<string, LocalBuilder>();
  const served: ServedFunction[] = [];
  // Set once the first builds are done; a later build starts its workers at once (WorkerPool.prewarm).
  const warm: { pool?: WorkerPool } = {};
  for (const fn of options.functions) {
    let first = true;
    const onBuild = (result: BuildResult) => {
      if (result.ok) warm.pool?.prewarm(fn.name, result);
      reporter.build({
        name: fn.name,
        ok: result.ok,
        durationMs: result.durationMs,
        error: result.ok ? undefined : result.error,
        first,
      });
      first = false;
    };
    const outDir = path.join(options.root, ".pulumi-live", "build", fn.functionId, buildId);
    const builder: LocalBuilder = isPythonFile(fn.file)
      ? pythonFunctionBuilder({
          ...fn,
          interpreter: options.python,
          outDir,
          watch: options.watch,
          debugHost: debugging ? (options.inspect?.host ?? "127.0.0.1") : undefined,
          status: (message) => reporter.status({ message }),
          onBuild,
        })
      : new FunctionBuilder({
          name: fn.name,
          entry: fn.file,
          exportName: fn.exportName,
          outDir,
          watch: options.watch,
          cwd: options.root,
          onBuild,
        });
    cleanup.add(`the build of ${fn.name}`, () => builder.dispose());
    builders.set(fn.name, builder);
    served.push({
      name: fn.name,
      functionId: fn.functionId,
      exportName: fn.exportName,
      ready: () => builder.ready(),
    });
  }
  await Promise.all([...builders.values()].map((b) => b.start()));

  const local = options.localVariables ?? {};
  if (Object.keys(local).length > 0) {
    reporter.status({
      message: `local variables for every function: ${Object.keys(local).sort().join(", ")}`,
    });
  }
  const pool = new WorkerPool({
    concurrency: options.concurrency,
    localVariables: local,
    onLog: (e) =>
      reporter.log({ name: e.functionName, requestId: e.requestId, stream: e.stream, line: e.line }),
    debugging,
    onDeadlinePassed: (e) => reporter.status({ message: deadlinePassedMessage(e) }),
    spareWorkers: true,
  });
  warm.pool = pool;
  cleanup.add("the worker pool", () => pool.close());
  return { builders, served, pool, recorder, inspector };
}
