/**
 * One local Lambda execution environment run as a worker thread of its own (a `LocalFunction` without
 * `shareThreads`: a handler hosted directly; serve's stubs share threads, `shared-thread-host.ts`). The
 * runtime is `host-runtime.ts`; this file is its channel: the thread's
 * port, which also carries the environment's output, so every line reaches the parent before the result
 * of the invocation that wrote it (no end markers needed).
 *
 * argv: `<handlerFile> <handlerExport>`; the function's whole environment is the thread's `process.env`.
 * workerData `{ brokerLink: true }`: the stub's MQTT connections go to serve's embedded broker over the
 * port (`thread-broker-link.ts`), installed before the stub bundle loads and connects.
 */
import { getHeapStatistics } from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import type { HostMessage, ParentMessage } from "./host-messages";
import { runHost } from "./host-runtime";
import { installThreadBrokerLink } from "./thread-broker-link";
import { capturedWrite } from "../runtime/captured-write";

const port = parentPort;
if (!port) throw new Error("lambda-thread-host.js must run in a worker thread started by EnvironmentThread");
const post = (message: HostMessage, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer);
const [handlerFile = "", exportPath = "handler"] = process.argv.slice(2);

captureOutput();
if ((workerData as { brokerLink?: boolean } | null)?.brokerLink) installThreadBrokerLink(port);
runHost(
  {
    post,
    sendResult: (message, transfer) => {
      post({ ...message, quiet: true }, transfer);
      return Promise.resolve();
    },
    onMessage: (listener) => port.on("message", (message: ParentMessage) => listener(message)),
    keepAlive: port,
    // The thread's own: its heap and the buffers it holds (the process's resident size is serve's).
    memoryMB: () => {
      const heap = getHeapStatistics();
      return Math.round((heap.total_heap_size + heap.external_memory) / 1048576);
    },
  },
  handlerFile,
  exportPath,
);

/** Sends what is written to stdout and stderr over the port, in order with the results. */
function captureOutput(): void {
  for (const stream of ["stdout", "stderr"] as const) {
    process[stream].write = capturedWrite((text) => post({ type: "log", stream, text }));
  }
}
