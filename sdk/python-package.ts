/**
 * The deployed package of a Python function: the handler's folder (without caches, virtualenvs and tests)
 * and, when a `requirements.txt` sits next to the handler, its dependencies installed by pip for Lambda's
 * platform, Python version and architecture.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { HANDLER_FORMAT_HINT, relativeHandler, splitHandler } from "../core/handler";
import {
  DEFAULT_PYTHON,
  findProjectPython,
  findPythonHandlerFile,
  isIgnoredPythonEntry,
  pythonCodeRoot,
  pythonHandlerCandidate,
  pythonLambdaHandler,
  pythonVersionOf,
} from "../core/python";
import type { Problems } from "./errors";

/** A Python `handler` argument resolved to its `.py` file. */
export interface PythonSource {
  file: string;
  exportName: string;
  /** `src/app.handler`, relative to the project root: what the CLI reads back from the stack. */
  relative: string;
}

/** How a Python function's dependencies are installed. */
export interface PythonOptions {
  /**
   * The interpreter that runs `pip` (its version need not be the runtime's: pip installs for Lambda's).
   * @default the project's `.venv` (next to the handler or to `Pulumi.yaml`), else `python3`
   * @example "/usr/bin/python3"
   */
  interpreter?: string;
  /**
   * More `pip install` arguments, run in the handler's folder: a private index, or wheels of a local
   * folder when offline.
   * @example ["--no-index", "--find-links", "wheels"]
   */
  pipArgs?: string[];
}

/** What a Python function deploys when it is not live. */
export interface PythonPackage {
  /** Archive-relative names, sorted, to the files they are read from. */
  files: Record<string, string>;
  /** `app.handler`: the handler as Lambda runs it from the package's root. */
  handler: string;
}

/** The requirements file read next to the handler. */
export const REQUIREMENTS = "requirements.txt";

const PYTHON_KEYS = ["interpreter", "pipArgs"];

/** Records a problem for each `python` option that is not what this component takes. */
export function checkPythonOptions(options: unknown, problems: Problems): void {
  if (options === undefined) return;
  const value = options as Record<string, unknown>;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    problems.add(
      "python",
      `must be an object, got ${JSON.stringify(options)}.`,
      "Pass { interpreter, pipArgs }.",
    );
    return;
  }
  for (const key of Object.keys(value)) {
    if (!PYTHON_KEYS.includes(key)) {
      problems.add("python", `has an unknown option "${key}".`, `Use only ${PYTHON_KEYS.join(", ")}.`);
    }
  }
  if (value.interpreter !== undefined && typeof value.interpreter !== "string") {
    problems.add("python.interpreter", "must be a path to a Python interpreter.", 'E.g. "python3".');
  }
  const args = value.pipArgs;
  if (args !== undefined && !(Array.isArray(args) && args.every((arg) => typeof arg === "string"))) {
    problems.add(
      "python.pipArgs",
      "must be a list of strings.",
      'E.g. ["--no-index", "--find-links", "wheels"].',
    );
  }
}

/** Resolves `src/app.handler` to `src/app.py`; records a problem when there is no such file. */
export function resolvePythonHandler(
  handler: unknown,
  root: string,
  problems: Problems,
): PythonSource | undefined {
  const name = typeof handler === "string" ? splitHandler(handler) : undefined;
  if (!name) {
    problems.add(
      "handler",
      `must be "<path>.<function>", got ${JSON.stringify(handler)}.`,
      `${HANDLER_FORMAT_HINT} For a Python runtime, src/app.handler is function "handler" of src/app.py.`,
    );
    return undefined;
  }
  const file = findPythonHandlerFile(root, name.modulePath);
  if (!file) {
    problems.add(
      "handler",
      `no file ${path.relative(root, pythonHandlerCandidate(root, name.modulePath))} under ${root}.`,
      "Fix the path (it is relative to the folder of Pulumi.yaml) or create the file.",
    );
    return undefined;
  }
  const { exportName } = name;
  return { file, exportName, relative: relativeHandler(root, file, exportName) };
}

/** pip's `--platform` for a Lambda runtime and architecture (newer runtimes run on a newer glibc). */
export function lambdaPlatform(version: string, architecture: string): string {
  const machine = architecture === "arm64" ? "aarch64" : "x86_64";
  const minor = Number(version.split(".")[1]);
  // python3.12 and later run on Amazon Linux 2023 (glibc 2.34), earlier ones on Amazon Linux 2 (2.26).
  return minor >= 12 ? `manylinux_2_34_${machine}` : `manylinux2014_${machine}`;
}

/**
 * Collects the package's files and installs the requirements (cached under `.pulumi-live/python` by
 * their text, options, platform and version). Problems are recorded, not thrown.
 */
export function packagePython(
  source: PythonSource,
  options: PythonOptions | undefined,
  runtime: string,
  architecture: string,
  root: string,
  problems: Problems,
): PythonPackage | undefined {
  const codeRoot = pythonCodeRoot(source.file);
  const files: Record<string, string> = {};
  const requirements = path.join(codeRoot, REQUIREMENTS);
  if (fs.existsSync(requirements)) {
    const installed = installRequirements(requirements, options, runtime, architecture, root, problems);
    if (!installed) return undefined;
    collect(installed, installed, files, () => false);
  }
  // The function's own files win over a dependency's of the same name.
  collect(codeRoot, codeRoot, files, isIgnoredPythonEntry);
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(files).sort()) sorted[name] = files[name];
  return { files: sorted, handler: pythonLambdaHandler(source.file, source.exportName) };
}

/** The archive of a package's files: read by Pulumi from disk, hashed by content. */
export function pythonArchive(pkg: PythonPackage): pulumi.asset.AssetArchive {
  const assets: Record<string, pulumi.asset.Asset> = {};
  for (const [name, file] of Object.entries(pkg.files)) assets[name] = new pulumi.asset.FileAsset(file);
  return new pulumi.asset.AssetArchive(assets);
}

function collect(
  base: string,
  dir: string,
  into: Record<string, string>,
  ignored: (absolute: string, isDirectory: boolean) => boolean,
): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const absolute = path.join(dir, entry.name);
    // Links are followed to files only: a linked folder may loop.
    const isDirectory = entry.isDirectory();
    const isFile =
      entry.isFile() ||
      (entry.isSymbolicLink() && fs.statSync(absolute, { throwIfNoEntry: false })?.isFile());
    if (ignored(absolute, isDirectory)) continue;
    if (isDirectory) collect(base, absolute, into, ignored);
    else if (isFile) into[path.relative(base, absolute).split(path.sep).join("/")] = absolute;
  }
}

function installRequirements(
  requirements: string,
  options: PythonOptions | undefined,
  runtime: string,
  architecture: string,
  root: string,
  problems: Problems,
): string | undefined {
  const codeRoot = path.dirname(requirements);
  const version = pythonVersionOf(runtime) ?? "3.12";
  const platform = lambdaPlatform(version, architecture);
  const pipArgs = options?.pipArgs ?? [];
  const key = createHash("sha256")
    .update(JSON.stringify([fs.readFileSync(requirements, "utf8"), pipArgs, platform, version]))
    .digest("hex")
    .slice(0, 24);
  const cacheRoot = path.join(root, ".pulumi-live", "python");
  const target = path.join(cacheRoot, key);
  if (fs.existsSync(target)) return target;

  const interpreter = options?.interpreter ?? findProjectPython(codeRoot, root) ?? DEFAULT_PYTHON;
  // Installed aside and renamed when complete: a failed or interrupted install is never taken as cached.
  const partial = path.join(cacheRoot, `.partial-${process.pid}-${randomBytes(4).toString("hex")}`);
  fs.mkdirSync(partial, { recursive: true });
  const args = [
    "-m",
    "pip",
    "install",
    "--requirement",
    requirements,
    "--target",
    partial,
    "--platform",
    platform,
    "--implementation",
    "cp",
    "--python-version",
    version,
    "--only-binary=:all:",
    "--no-compile",
    "--disable-pip-version-check",
    "--no-input",
    "--quiet",
    ...pipArgs,
  ];
  const run = spawnSync(interpreter, args, { cwd: codeRoot, encoding: "utf8", timeout: 600_000 });
  if (run.status !== 0) {
    fs.rmSync(partial, { recursive: true, force: true });
    problems.add("handler", pipFailure(interpreter, requirements, root, run), pipFix(platform, version, run));
    return undefined;
  }
  try {
    fs.renameSync(partial, target);
  } catch {
    // Another deployment installed the same requirements meanwhile: theirs is as good.
    fs.rmSync(partial, { recursive: true, force: true });
  }
  return target;
}

function pipFailure(
  interpreter: string,
  requirements: string,
  root: string,
  run: ReturnType<typeof spawnSync>,
): string {
  const shown = path.relative(root, requirements);
  if (run.error && "code" in run.error && run.error.code === "ENOENT") {
    return `${shown} needs pip to install its packages, and the Python interpreter ${interpreter} was not found.`;
  }
  const output = `${String(run.stderr ?? "")}${String(run.stdout ?? "")}`.trim();
  if (/No module named pip/.test(output)) {
    return `${shown} needs pip to install its packages, and ${interpreter} has no pip.`;
  }
  const tail = output.split("\n").slice(-12).join("\n    ");
  const why = run.error ? run.error.message : tail || `pip exited with status ${run.status}`;
  return `pip could not install ${shown} for Lambda:\n    ${why}\n   `;
}

function pipFix(platform: string, version: string, run: ReturnType<typeof spawnSync>): string {
  if (run.error && "code" in run.error && run.error.code === "ENOENT") {
    return "Install Python 3 with pip, create the project's .venv, or set python.interpreter.";
  }
  return (
    `pip installs binary wheels for ${platform} and CPython ${version} only (Lambda's platform, whatever ` +
    "this machine is): check that each package offers one, and that the index is reachable. Offline, " +
    'install from a folder of wheels: python: { pipArgs: ["--no-index", "--find-links", "wheels"] }.'
  );
}
