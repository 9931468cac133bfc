import test from "ava";
import { randomPoolBytes } from "../../protocol/random-pool";
import { seal } from "../../protocol/seal";
import { generateKey } from "../../protocol";

test("pool bytes: each slice is handed out once, and slices kept across refills stay as they were", (t) => {
  const slices: Buffer[] = [];
  const copies: string[] = [];
  // Several pools' worth: the refills come in between.
  for (let i = 0; i < 2000; i++) {
    const bytes = randomPoolBytes(i % 2 === 0 ? 12 : 16);
    slices.push(bytes);
    copies.push(bytes.toString("hex"));
  }
  t.deepEqual(
    slices.map((bytes) => bytes.toString("hex")),
    copies,
  );
  t.is(new Set(copies).size, copies.length);
  t.throws(() => randomPoolBytes(4097), { instanceOf: RangeError });
});

test("sealing the same bytes twice gives two nonces", (t) => {
  const key = generateKey();
  const nonces = new Set<string>();
  for (let i = 0; i < 1000; i++)
    nonces.add(seal(key, "t", Buffer.from("same")).subarray(1, 13).toString("hex"));
  t.is(nonces.size, 1000);
});
