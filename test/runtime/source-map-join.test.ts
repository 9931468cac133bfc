import { SourceMap, type SourceMapPayload } from "node:module";
import test from "ava";
import * as esbuild from "esbuild";
import { joinMappings, prepareMap } from "../../cli/runtime/source-map-join";

const SOURCES = [
  'import { b } from "./b";\n\n\nexport const a = (n: number): number => b(n) + 1;\n',
  "interface Skipped {\n  n: number;\n}\nexport function b(n: number): number {\n  const x = { n } as Skipped;\n  return x.n * 2;\n}\n",
  "export class C<T> {\n  constructor(readonly value: T) {}\n  map<U>(f: (v: T) => U): C<U> {\n    return new C(f(this.value));\n  }\n}\n",
];

/** esbuild's code and map of each source, compiled alone as module mode compiles it. */
async function compiled() {
  return Promise.all(
    SOURCES.map(async (text, index) => {
      const out = await esbuild.transform(text, {
        loader: "ts",
        format: "cjs",
        sourcemap: "external",
        sourcefile: `m${index}.ts`,
      });
      return { code: out.code, map: JSON.parse(out.map) as SourceMapPayload };
    }),
  );
}

test("a joined map gives every generated position of every module the position its own map gives", async (t) => {
  const modules = await compiled();
  // Placed as a version's file places them: a wrapper line before each module's code, one after.
  let line = 2;
  const placed = modules.map(({ code, map }) => {
    const lines = code.split("\n").length - 1;
    const startLine = line + 1;
    line += lines + 2;
    return { map: prepareMap(map, lines), startLine, own: new SourceMap(map), code };
  });
  const joined = new SourceMap({
    version: 3,
    file: "version.cjs",
    sourceRoot: "",
    sources: SOURCES.map((_, index) => `m${index}.ts`),
    sourcesContent: SOURCES,
    names: [],
    mappings: joinMappings(placed, line + 1),
  });
  let checked = 0;
  placed.forEach(({ own, code, startLine }, index) => {
    code.split("\n").forEach((text, l) => {
      for (let column = 0; column < text.length; column++) {
        const expected = own.findEntry(l, column) as { originalLine?: number; originalColumn?: number };
        if (expected.originalLine === undefined) continue;
        const actual = joined.findEntry(startLine + l, column) as {
          originalSource?: string;
          originalLine?: number;
          originalColumn?: number;
        };
        t.deepEqual(
          [actual.originalSource, actual.originalLine, actual.originalColumn],
          [`m${index}.ts`, expected.originalLine, expected.originalColumn],
          `module ${index}, line ${l}, column ${column}`,
        );
        checked++;
      }
    });
  });
  t.true(checked > 100, `only ${checked} positions checked`);
  // The sources' text travels with the map, for debuggers.
  t.deepEqual(
    placed.map(({ map }) => JSON.parse(map.contentJson) as string),
    SOURCES,
  );
});
