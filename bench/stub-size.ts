import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import path from "node:path";
import { STUB_BUNDLE } from "../core/names";
import { ms, percentile, type Row } from "./stats";

/** The deployed stub's size and cold load (require in a fresh process), against an empty module's. */
export function benchStub(): Row[] {
  const bundle = STUB_BUNDLE;
  const bytes = statSync(bundle).size;
  const load = (file: string) => {
    const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    return Number(execFileSync(process.execPath, ["-e", script]).toString());
  };
  const stub: number[] = [];
  const empty: number[] = [];
  for (let i = 0; i < 7; i++) {
    stub.push(load(bundle));
    empty.push(load(path.join(__dirname, "stats.js")));
  }
  const s = percentile(stub, 50);
  const e = percentile(empty, 50);
  return [
    { figure: "stub bundle size", value: `${(bytes / 1024).toFixed(1)} KB (${bytes} bytes)` },
    {
      figure: "stub cold load (require in a fresh node, median of 7)",
      value: `${ms(s)} ms`,
      baseline: `a tiny module ${ms(e)} ms`,
      ratio: (s / e).toFixed(1),
    },
  ];
}
