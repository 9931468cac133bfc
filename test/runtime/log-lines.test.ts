import test from "ava";
import { LogLines, MAX_LINE_CHARS } from "../../cli/runtime/log-lines";

test("output without line breaks is cut at the cap and split in linear work", (t) => {
  // 4 MB in 1 KB writes with no line break: re-joining the unfinished line on every write scanned and
  // copied ~8 GB here (29 s on the main thread); the work must stay proportional to the output.
  const lines = new LogLines();
  const piece = "x".repeat(1023) + "y";
  const out: string[] = [];
  for (let i = 0; i < 4096; i++) out.push(...lines.push("stdout", piece));
  out.push(...lines.flush().map((entry) => entry.line));
  const total = piece.length * 4096;
  t.is(out.length, total / MAX_LINE_CHARS);
  t.true(out.every((line) => line.length === MAX_LINE_CHARS));
  t.is(out.join(""), piece.repeat(4096));
  t.true(lines.work <= 2 * total, `work ${lines.work} for ${total} characters`);
});

test("lines split at line breaks, per stream; CRLF ends a line; flush ends the unfinished ones", (t) => {
  const lines = new LogLines();
  t.deepEqual(lines.push("stdout", "one\r\ntw"), ["one"]);
  t.deepEqual(lines.push("stderr", "err"), []);
  t.deepEqual(lines.push("stdout", "o\n\nthree"), ["two", ""]);
  t.deepEqual(lines.push("stderr", " two\nlast"), ["err two"]);
  t.deepEqual(lines.flush(), [
    { stream: "stdout", line: "three" },
    { stream: "stderr", line: "last" },
  ]);
  t.deepEqual(lines.flush(), []);
});

test("a complete line longer than the cap is cut into pieces of the cap", (t) => {
  const lines = new LogLines();
  const long = "a".repeat(MAX_LINE_CHARS * 2 + 5);
  t.deepEqual(
    lines.push("stdout", `${long}\nnext`).map((line) => line.length),
    [MAX_LINE_CHARS, MAX_LINE_CHARS, 5],
  );
  t.deepEqual(lines.flush(), [{ stream: "stdout", line: "next" }]);
});

test("a line of exactly the cap is one line", (t) => {
  const lines = new LogLines();
  t.deepEqual(
    lines.push("stdout", `${"b".repeat(MAX_LINE_CHARS)}\n`).map((line) => line.length),
    [MAX_LINE_CHARS],
  );
});
