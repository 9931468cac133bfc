import type { EventEmitter } from "node:events";
import path from "node:path";
import type { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { relativeHandler } from "../../core/handler";
import type { InvokeRequest } from "./invocation";
import { isPythonBuild } from "./python/python-builder";
import { PythonProcess } from "./python/python-process";
import type { InvokeMessage, LoadMessage } from "./worker-messages";

/** The memory size of a function whose context does not say (Lambda's default). */
const DEFAULT_MEMORY_MB = 128;

/** What starting a worker needs of an invocation: its function, build and environment, not its event. */
export type WorkerRequest = Pick<
  InvokeRequest,
  "functionName" | "envId" | "build" | "exportName" | "environment"
> & {
  context: Pick<InvokeRequest["context"], "memoryLimitInMB">;
};

/** The function's memory size, from the invocation's context: the bound of its worker's heap. */
export function memoryLimitMb(req: Pick<WorkerRequest, "context">): number {
  const size = Number(req.context.memoryLimitInMB);
  return Number.isInteger(size) && size > 0 ? size : DEFAULT_MEMORY_MB;
}

/** The worker thread script, compiled next to this file. */
const WORKER_ENTRY = path.join(__dirname, "worker-entry.js");

/**
 * What the pool drives: a worker thread for Node.js handlers, a process for Python ones. It takes
 * `invoke` messages and emits `message` (WorkerMessage), `error` and `exit` (the exit code).
 */
export interface HandlerWorker extends EventEmitter {
  postMessage(message: InvokeMessage): void;
  readonly stdout: Readable;
  readonly stderr: Readable;
  terminate(): Promise<number>;
}

/** Where a started but blank worker thread may come from (see SpareWorkers). */
export interface BlankWorkers {
  take(memoryMb: number): Worker | undefined;
}

/**
 * A worker thread with nothing loaded yet: it waits for a `load` message (see worker-entry). Its
 * environment is empty until then; `name` is the title a debugger shows for the thread.
 */
export function startBlankWorker(memoryMb: number, name?: string): Worker {
  return new Worker(WORKER_ENTRY, {
    env: {},
    // Stack traces name the .ts source and line.
    execArgv: ["--enable-source-maps"],
    stdout: true,
    stderr: true,
    name,
    // The function's memory size bounds the handler's JavaScript heap; over it, V8 stops the worker and
    // the invocation fails as Lambda's does (Runtime.OutOfMemory). Buffers and native memory are not bounded.
    resourceLimits: { maxOldGenerationSizeMb: memoryMb },
  });
}

/**
 * A worker thread that loads the request's build and serves invocations of its export, with the
 * request's environment (and the developer's local variables over it) as its whole `process.env` and its
 * output piped to the parent — a spare's when one waits for this memory size; or, for a Python build,
 * the Python process that does the same.
 */
export function spawnHandlerWorker(
  req: WorkerRequest,
  localVariables: Record<string, string> = {},
  spares?: BlankWorkers,
): HandlerWorker {
  // The developer's local variables go over the request's environment (see core/local-environment).
  const env = { ...req.environment, ...localVariables };
  if (isPythonBuild(req.build)) return new PythonProcess(req.build.python, env);
  const memoryMb = memoryLimitMb(req);
  // The title a debugger shows for the thread (`[worker 3] api env-1`), where Node supports it.
  const worker = spares?.take(memoryMb) ?? startBlankWorker(memoryMb, `${req.functionName} ${req.envId}`);
  const load: LoadMessage = {
    type: "load",
    env,
    data: {
      file: req.build.file,
      format: req.build.format,
      exportName: req.exportName,
      // `<module>.<export>` as Lambda names the handler in its errors: relative to the working folder.
      handlerName: relativeHandler(process.cwd(), req.build.entry, req.exportName),
    },
  };
  worker.postMessage(load);
  return worker;
}
