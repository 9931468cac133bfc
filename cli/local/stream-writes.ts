import type { ServerResponse } from "node:http";

/**
 * Writes to an HTTP response and resolves when more may be written: at once, or once the socket drained
 * (or closed). A slow reader thus slows the function's stream instead of filling memory.
 */
export function writeOrWait(res: ServerResponse, chunk: Buffer): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
