import path from "node:path";
import { Worker } from "node:worker_threads";
import type { InvokeRequest } from "./invocation";
import type { WorkerData } from "./worker-messages";

/** The worker thread script, compiled next to this file. */
const WORKER_ENTRY = path.join(__dirname, "worker-entry.js");

/**
 * Starts a worker thread that loads the request's build and serves invocations of its export, with
 * the request's environment as its whole `process.env` and its output piped to the parent.
 */
export function spawnHandlerWorker(req: InvokeRequest): Worker {
  const data: WorkerData = {
    file: req.build.file,
    format: req.build.format,
    exportName: req.exportName,
    handlerName: handlerName(req.build.entry, req.exportName),
  };
  return new Worker(WORKER_ENTRY, {
    workerData: data,
    env: req.environment,
    // Stack traces name the .ts source and line.
    execArgv: ["--enable-source-maps"],
    stdout: true,
    stderr: true,
    // The title a debugger shows for the thread (`[worker 3] api env-1`), where Node supports it.
    name: `${req.functionName} ${req.envId}`,
  });
}

/** `<module>.<export>`, as Lambda names a handler: the module relative to the working folder, no extension. */
export function handlerName(entry: string, exportName: string): string {
  const relative = path.relative(process.cwd(), entry) || entry;
  const module = relative.slice(0, relative.length - path.extname(relative).length);
  return `${module.split(path.sep).join("/")}.${exportName}`;
}
