/**
 * The row "serve's memory over N rebuilds": RSS of serve and its children against the value at 100
 * rebuilds (what the goal measures), and where it moved — serve's own process (its anonymous memory:
 * V8's heaps and malloc's arenas, every thread's) against esbuild's service (a Go process), and the main
 * thread's V8 heap reserved — at the lowest and the highest sample. Measured on the idle VM the fall comes
 * from serve's anonymous memory, with the main V8 heap reserved and the heap after a collection flat: a
 * worker isolate's young generation shrinking after the warm-up burst, and malloc's arenas trimming what
 * ended worker threads freed (see the README's Memory note), which this split shows run by run.
 */
import type { ProcessMemory } from "./memory";
import type { HostMessage } from "./serve-messages";
import { load, mb, type Row } from "./stats";

/** serve's own answer (`rss` there is serve's process alone) and the tree read from /proc (`rss`: all). */
export type MemorySample = Omit<Extract<HostMessage, { type: "memory" }>, "type"> & {
  processes: ProcessMemory[];
};

/** One sample reduced to the parts the row reports (bytes). */
interface Parts {
  edit: number;
  tree: number;
  serve: number;
  serveAnon: number;
  esbuild: number;
  heapReserved: number;
}

export function partsOf(edit: number, sample: MemorySample): Parts {
  const [serve, ...children] = sample.processes;
  return {
    edit,
    tree: sample.rss,
    serve: serve?.rss ?? NaN,
    serveAnon: serve?.anon ?? NaN,
    // Every child of serve in this bench is esbuild's service; a future one would count here too.
    esbuild: children.reduce((sum, p) => sum + p.rss, 0),
    heapReserved: sample.heapTotal,
  };
}

const signed = (bytes: number): string => `${bytes >= 0 ? "+" : "−"}${mb(Math.abs(bytes))}`;

function delta(at: Parts, base: Parts): string {
  return (
    `serve ${signed(at.serve - base.serve)} (anonymous ${signed(at.serveAnon - base.serveAnon)}), ` +
    `esbuild's service ${signed(at.esbuild - base.esbuild)}, main V8 heap reserved ${signed(at.heapReserved - base.heapReserved)}`
  );
}

/** `samples`: one every 10 rebuilds from the 100th; `heap100`/`heapEnd`: heap used after a collection. */
export function rebuildMemoryRow(rebuilds: number, samples: Parts[], heap100: number, heapEnd: number): Row {
  const base = samples[0];
  const low = samples.reduce((a, b) => (b.tree < a.tree ? b : a));
  const high = samples.reduce((a, b) => (b.tree > a.tree ? b : a));
  const [lowBy, highBy] = [low.tree - base.tree, high.tree - base.tree];
  return {
    figure: `serve's memory over ${rebuilds} rebuilds, an invocation after each: RSS of serve and its children, 100 → ${rebuilds} (lowest / highest against 100, and where it moved); heap after a collection`,
    value:
      `${signed(lowBy)} / ${signed(highBy)}; lowest at ${low.edit}: ${delta(low, base)}; ` +
      `highest at ${high.edit}: ${delta(high, base)}; heap ${mb(heap100)} → ${mb(heapEnd)}`,
    baseline: `RSS at 100 rebuilds ${mb(base.tree)}: serve ${mb(base.serve)} (anonymous ${mb(base.serveAnon)}), esbuild's service ${mb(base.esbuild)}`,
    ratio: (high.tree / base.tree).toFixed(2),
    goal: "within ± 20 MB of 100, peak included; heap flat",
    met: lowBy >= -20 * 1048576 && highBy <= 20 * 1048576 && heapEnd - heap100 <= 5 * 1048576,
    data: {
      rssAt100: base.tree,
      rssLow: lowBy,
      rssHigh: highBy,
      heapAt100: heap100,
      heapAtEnd: heapEnd,
      serveRssAt100: base.serve,
      serveAnonAt100: base.serveAnon,
      esbuildRssAt100: base.esbuild,
      heapReservedAt100: base.heapReserved,
      lowAtRebuild: low.edit,
      serveAtLow: low.serve - base.serve,
      serveAnonAtLow: low.serveAnon - base.serveAnon,
      esbuildAtLow: low.esbuild - base.esbuild,
      heapReservedAtLow: low.heapReserved - base.heapReserved,
      highAtRebuild: high.edit,
      serveAtHigh: high.serve - base.serve,
      serveAnonAtHigh: high.serveAnon - base.serveAnon,
      esbuildAtHigh: high.esbuild - base.esbuild,
      heapReservedAtHigh: high.heapReserved - base.heapReserved,
    },
    load: load(),
  };
}
