/**
 * Loads `.ts` files the way the pulumi CLI's ts-node does for a TypeScript program, without ts-node:
 * each file is transpiled by esbuild to CommonJS when required, with an inline source map, so stacks
 * and error locations name the `.ts` lines. No type checking (as ts-node's transpile-only mode).
 */
import { readFileSync } from "node:fs";
import Module from "node:module";
import { transformSync } from "esbuild";

/** Thrown for a file esbuild cannot parse; carries the location for the error message. */
export class TranspileError extends Error {
  constructor(
    message: string,
    readonly location: { file: string; line: number; column: number },
  ) {
    super(message);
    this.name = "SyntaxError";
  }
}

type Loader = (module: NodeJS.Module & { _compile(code: string, file: string): void }, file: string) => void;

export function registerTypeScript(): void {
  const extensions = (Module as unknown as { _extensions: Record<string, Loader> })._extensions;
  const load: Loader = (module, file) => {
    const source = readFileSync(file, "utf8");
    let code: string;
    try {
      code = transformSync(source, {
        loader: file.endsWith("x") ? "tsx" : "ts",
        format: "cjs",
        target: `node${process.versions.node.split(".")[0]}`,
        sourcemap: "inline",
        sourcefile: file,
        supported: { "dynamic-import": true },
      }).code;
    } catch (error) {
      const first = (
        error as { errors?: Array<{ text: string; location?: { line: number; column: number } }> }
      ).errors?.[0];
      if (!first) throw error;
      const at = { file, line: first.location?.line ?? 1, column: (first.location?.column ?? 0) + 1 };
      throw new TranspileError(first.text, at);
    }
    module._compile(code, file);
  };
  for (const ext of [".ts", ".tsx", ".cts", ".mts"]) extensions[ext] ??= load;
}
