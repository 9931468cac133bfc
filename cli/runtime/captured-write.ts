/**
 * A `write` for `process.stdout` or `process.stderr` that hands what is written, as text, to `onText`
 * instead, at once and in order; its callback is called on the next tick, as a stream's would be. How a
 * worker or a local environment sends its output over its port, in order with its results.
 */
export function capturedWrite(onText: (text: string) => void): NodeJS.WriteStream["write"] {
  return (chunk: string | Uint8Array, encoding?: unknown, done?: unknown): boolean => {
    onText(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const callback = typeof encoding === "function" ? encoding : done;
    if (typeof callback === "function") process.nextTick(callback);
    return true;
  };
}
