/**
 * The longest line kept whole, in characters: a longer one is cut there, as Lambda cuts a log event at
 * 256 KB. It also bounds what an unfinished line (output without a line break) can hold.
 */
export const MAX_LINE_CHARS = 256 * 1024;

type Stream = "stdout" | "stderr";

/**
 * Splits a worker's stdout and stderr into lines, keeping each stream's unfinished line apart. Linear:
 * each character is scanned once and copied once, however the output is split into writes.
 */
export class LogLines {
  /** The unfinished line of each stream, as the pieces it arrived in. */
  private readonly partial: Record<Stream, string[]> = { stdout: [], stderr: [] };
  private readonly partialLength: Record<Stream, number> = { stdout: 0, stderr: 0 };
  /** Characters scanned plus characters joined so far: the work done, for tests. */
  work = 0;

  /** Adds output; returns the lines it completed (or cut at {@link MAX_LINE_CHARS}), without line breaks. */
  push(stream: Stream, text: string): string[] {
    this.work += text.length;
    const lines: string[] = [];
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      this.append(stream, text.slice(start, end), lines);
      lines.push(this.take(stream));
      start = end + 1;
    }
    if (start < text.length) this.append(stream, text.slice(start), lines);
    return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  }

  /** Ends the unfinished lines (at the end of an invocation), in stdout, stderr order. */
  flush(): Array<{ stream: Stream; line: string }> {
    const out: Array<{ stream: Stream; line: string }> = [];
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.partialLength[stream] > 0) out.push({ stream, line: this.take(stream) });
    }
    return out;
  }

  /** Adds a piece to the unfinished line, cutting a full line off whenever it reaches the cap. */
  private append(stream: Stream, piece: string, lines: string[]): void {
    let rest = piece;
    while (this.partialLength[stream] + rest.length > MAX_LINE_CHARS) {
      const room = MAX_LINE_CHARS - this.partialLength[stream];
      this.partial[stream].push(rest.slice(0, room));
      this.partialLength[stream] = MAX_LINE_CHARS;
      rest = rest.slice(room);
      lines.push(this.take(stream));
    }
    if (rest.length > 0) {
      this.partial[stream].push(rest);
      this.partialLength[stream] += rest.length;
    }
  }

  private take(stream: Stream): string {
    const line = this.partial[stream].join("");
    this.work += line.length;
    this.partial[stream] = [];
    this.partialLength[stream] = 0;
    return line;
  }
}

/** Lambda returns the last 4 KB of an invocation's log. */
export const LOG_TAIL_BYTES = 4096;

/** Keeps the last {@link LOG_TAIL_BYTES} of the text appended to it. */
export class LogTail {
  private text = "";

  append(line: string): void {
    this.text += `${line}\n`;
    // Trim lazily, so appending stays cheap for chatty handlers.
    if (this.text.length > LOG_TAIL_BYTES * 4) this.text = this.text.slice(-LOG_TAIL_BYTES * 2);
  }

  /** The last 4 KB (UTF-8), cut at a character boundary. */
  toString(): string {
    const bytes = Buffer.from(this.text, "utf8");
    if (bytes.length <= LOG_TAIL_BYTES) return this.text;
    return bytes
      .subarray(bytes.length - LOG_TAIL_BYTES)
      .toString("utf8")
      .replace(/^\uFFFD+/, "");
  }
}
