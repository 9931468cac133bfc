/**
 * One local Lambda execution environment run as a child process (`child_process.fork`), for functions
 * whose environment Node reads only when a process starts (see `environment-kind.ts`). The runtime is
 * `host-runtime.ts`; this file is its channel: IPC, with end markers on the output pipes.
 *
 * argv: `<handlerFile> <handlerExport>`; the function's whole environment comes as the process env.
 */
import { endMarker, type ParentMessage, type ResultMessage } from "./host-messages";
import { runHost } from "./host-runtime";

const [handlerFile = "", exportPath = "handler"] = process.argv.slice(2);
/** Whether the invocation running has written to stdout or stderr (through the process's streams). */
let wrote = false;

noteWrites();
// The parent is gone: nothing can receive a result any more.
process.on("disconnect", () => process.exit(0));
runHost(
  {
    post: (message) => process.send?.(message),
    sendResult: send,
    onMessage: (listener) => process.on("message", (message: ParentMessage) => listener(message)),
    // The IPC channel keeps this process alive between invocations; during one, the loop may empty.
    ...(process.channel ? { keepAlive: process.channel } : {}),
    invocationStarts: () => (wrote = false),
    memoryMB: () => Math.round(process.memoryUsage.rss() / 1048576),
  },
  handlerFile,
  exportPath,
);

/** Notes when anything is written to stdout or stderr: the end markers are needed only then. */
function noteWrites(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = (...args: unknown[]) => {
      wrote = true;
      return write(...args);
    };
  }
}

/** Marks the end of this invocation's output on both pipes (if it wrote any), then sends the result. */
function send(message: ResultMessage): Promise<void> {
  const marker = endMarker(message.requestId);
  return new Promise((resolve) => {
    // Output that bypasses these streams (a child process writing to the inherited pipe) may then be
    // read after the result, and land in the next invocation's log.
    if (!wrote) {
      if (process.connected) process.send?.({ ...message, quiet: true }, () => resolve());
      else resolve();
      return;
    }
    process.stdout.write(marker, () =>
      process.stderr.write(marker, () => {
        if (process.connected) process.send?.(message, () => resolve());
        else resolve();
      }),
    );
  });
}
