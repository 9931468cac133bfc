import test from "ava";
import type { StreamMessage } from "../../protocol";
import {
  initialStream,
  receiveStream,
  streamComplete,
  streamWritten,
  type StreamEffect,
  type StreamReceive,
} from "../../stub/stream-state";

const start: StreamMessage = {
  type: "stream-start",
  requestId: "r",
  sessionId: "s",
  seq: 0,
  contentType: "text/plain",
};
const data = (seq: number): StreamMessage => ({
  type: "stream-chunk",
  requestId: "r",
  seq,
  data: Buffer.from(`#${seq}`),
});
const end = (seq: number): StreamMessage => ({
  type: "stream-end",
  requestId: "r",
  seq,
  bytes: 2 * (seq - 1),
});

/** Feeds arrivals and writes (a number: the writer finished that seq); returns what was delivered and granted. */
function run(
  window: number,
  steps: (StreamMessage | number)[],
): { delivered: number[]; credits: number[]; state: StreamReceive } {
  let state = initialStream(window);
  const delivered: number[] = [];
  const credits: number[] = [];
  const effect = (e: StreamEffect) =>
    e.kind === "deliver" ? delivered.push(e.message.seq) : credits.push(e.seq);
  for (const step of steps) {
    const next = typeof step === "number" ? streamWritten(state, step) : receiveStream(state, step);
    state = next.state;
    next.effects.forEach(effect);
  }
  return { delivered, credits, state };
}

const table: [string, number, (StreamMessage | number)[], number[], number[]][] = [
  ["in order", 8, [start, data(1), data(2), end(3)], [0, 1, 2, 3], []],
  ["out of order: held until the gap fills", 8, [data(2), data(1), end(3), start], [0, 1, 2, 3], []],
  [
    "copies of delivered or held messages are dropped",
    8,
    [start, start, data(2), data(2), data(1), data(1)],
    [0, 1, 2],
    [],
  ],
  [
    "a start that is not seq 0, a chunk that is, are dropped",
    8,
    [{ ...start, seq: 1 } as StreamMessage, { ...data(1), seq: 0 }],
    [],
    [],
  ],
  ["beyond what the session may send yet: dropped", 4, [start, data(4)], [0], []],
  ["nothing past the end", 8, [end(2), data(3), start, data(1)], [0, 1, 2], []],
  ["credit after half a window written", 4, [start, data(1), data(2), 0, 1], [0, 1, 2], [1]],
  [
    "the next credit after another half window",
    4,
    [start, data(1), data(2), data(3), 0, 1, 2, 3],
    [0, 1, 2, 3],
    [1, 3],
  ],
  ["a window of one grants every message", 1, [start, 0, data(1), 1], [0, 1], [0, 1]],
  ["granted more: what was too far is taken", 4, [start, data(1), data(2), 0, 1, data(5)], [0, 1, 2], [1]],
  ["the end grants nothing", 2, [start, 0, end(1), 1], [0, 1], [0]],
];

for (const [name, window, steps, delivered, credits] of table) {
  test(`stream receive: ${name}`, (t) => {
    const result = run(window, steps);
    t.deepEqual(result.delivered, delivered);
    t.deepEqual(result.credits, credits);
  });
}

test("stream receive: complete once the end is written, not when it is delivered", (t) => {
  const delivered = run(8, [start, end(1), 0]);
  t.false(streamComplete(delivered.state));
  t.true(streamComplete(streamWritten(delivered.state, 1).state));
});
