/** Splits a byte stream into lines (newline-delimited JSON), without copying what it has seen twice. */
export class NdjsonReader {
  private pending: Buffer[] = [];

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(10); end >= 0; end = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, end);
      const line = this.pending.length > 0 ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      start = end + 1;
      if (line.length > 0) this.onLine(line.toString("utf8"));
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
  }
}
