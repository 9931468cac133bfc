import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  findHandlerFile,
  findProjectRoot,
  HANDLER_FORMAT_HINT,
  moduleFormat,
  relativeHandler,
  SOURCE_EXTENSIONS,
  splitHandler,
  type HandlerSource as ResolvedHandler,
} from "../core/handler";
import type { Problems } from "./errors";

/** A `handler` argument resolved to a file on disk. */
export interface HandlerSource extends ResolvedHandler {
  /** The handler as the CLI reads it: source path relative to the project root without extension, then `.export`. */
  relative: string;
}

/**
 * The Pulumi project root (the folder of `Pulumi.yaml`), against which handlers resolve: the root the
 * engine reports, else the nearest folder with a `Pulumi.yaml` above the working directory, else the
 * working directory.
 */
export function projectRoot(): string {
  // Under test mocks the reported root is a placeholder, not a path.
  const reported = pulumi.runtime.getRootDirectory();
  if (reported && path.isAbsolute(reported) && fs.existsSync(reported)) return reported;
  return findProjectRoot(process.cwd()) ?? process.cwd();
}

/** Resolves `src/api.handler` to the file and export it names; records a problem when it cannot. */
export function resolveHandler(
  handler: unknown,
  root: string,
  problems: Problems,
): HandlerSource | undefined {
  const name = typeof handler === "string" ? splitHandler(handler) : undefined;
  if (!name) {
    problems.add(
      "handler",
      `must be "<path>.<export>", got ${JSON.stringify(handler)}.`,
      HANDLER_FORMAT_HINT,
    );
    return undefined;
  }
  const file = findHandlerFile(root, name.modulePath);
  if (!file) {
    const stem = name.modulePath.replace(/\.(ts|mts|cts|js|mjs|cjs)$/, "");
    problems.add(
      "handler",
      `no file ${stem}{${SOURCE_EXTENSIONS.join(",")}} under ${root}.`,
      "Fix the path (it is relative to the folder of Pulumi.yaml) or create the file.",
    );
    return undefined;
  }
  const { exportName } = name;
  return { file, exportName, relative: relativeHandler(root, file, exportName), format: moduleFormat(file) };
}
