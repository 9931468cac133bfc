/** Splits a worker's stdout and stderr into lines, keeping each stream's unfinished line apart. */
export class LogLines {
  private readonly partial = { stdout: "", stderr: "" };

  /** Adds output; returns the lines it completed, without their line breaks. */
  push(stream: "stdout" | "stderr", text: string): string[] {
    const lines = (this.partial[stream] + text).split("\n");
    this.partial[stream] = lines.pop() ?? "";
    return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  }

  /** Ends the unfinished lines (at the end of an invocation), in stdout, stderr order. */
  flush(): Array<{ stream: "stdout" | "stderr"; line: string }> {
    const out: Array<{ stream: "stdout" | "stderr"; line: string }> = [];
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.partial[stream]) out.push({ stream, line: this.partial[stream] });
      this.partial[stream] = "";
    }
    return out;
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
