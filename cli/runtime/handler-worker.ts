import path from "node:path";
import { Worker } from "node:worker_threads";
import { relativeHandler } from "../../core/handler";
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
    // `<module>.<export>` as Lambda names the handler in its errors: relative to the working folder.
    handlerName: relativeHandler(process.cwd(), req.build.entry, req.exportName),
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
