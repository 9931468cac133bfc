/** The benchmarks' handler: TypeScript importing a chain of 50 modules with types, classes and generics. */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export const MODULES = 50;

/** The handler's source at edit `edit`: the edit shows in its result. `pad` varies the file's size. */
export function handlerSource(edit: number): string {
  return (
    `import { step0 } from "./lib/m0";\n` +
    `export const handler = async (event: unknown) => ({ value: step0(1), edit: ${edit}${" ".repeat(edit % 3)}, event });\n`
  );
}

/** Writes the project under `dir`; returns the handler's file (`src/handler.ts`, export `handler`). */
export async function writeProject(dir: string): Promise<string> {
  await mkdir(path.join(dir, "src/lib"), { recursive: true });
  for (let i = 0; i < MODULES; i++) {
    const next = i + 1 < MODULES ? `import { step${i + 1} } from "./m${i + 1}";` : "";
    const call = i + 1 < MODULES ? `step${i + 1}(input + 1)` : "input";
    await writeFile(
      path.join(dir, `src/lib/m${i}.ts`),
      `${next}
export interface Shape${i} { id: number; label: string; tags: readonly string[] }
export class Box${i}<T> { constructor(readonly value: T) {} map<U>(f: (v: T) => U): Box${i}<U> { return new Box${i}(f(this.value)); } }
export function step${i}(input: number): number {
  const shape: Shape${i} = { id: input, label: "m${i}", tags: ["a", "b"] };
  return new Box${i}(shape).map((s) => s.id).value + ${call} * 0;
}
`,
    );
  }
  const entry = path.join(dir, "src/handler.ts");
  await writeFile(entry, handlerSource(0));
  return entry;
}
