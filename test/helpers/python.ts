/**
 * The machine's Python for the Python handler tests. Without it their cases are counted as skipped; CI
 * (`.ci/run`, which installs it and sets PULUMI_LIVE_REQUIRE_PYTHON=1) and `CI=true` make a missing one fail.
 */
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export const pythonRequired = process.env.PULUMI_LIVE_REQUIRE_PYTHON === "1" || process.env.CI === "true";

/** Interpreters tried, in order: the one on PATH, then Debian's own (where apt installs debugpy and wheel). */
const CANDIDATES = ["python3", "/usr/bin/python3"];

function runs(command: string, code: string): boolean {
  return spawnSync(command, ["-c", code], { stdio: "ignore", timeout: 30_000 }).status === 0;
}

/** The first interpreter that can run `code` (e.g. import a module); undefined when none. */
export function findPython(code = "import sys"): string | undefined {
  return CANDIDATES.find((command) => runs(command, code));
}

/**
 * Why these tests cannot run here (undefined when they can), or throws when they are required.
 * `what` names the need, `install` the command that provides it.
 */
export function skipReason(found: string | undefined, what: string, install: string): string | undefined {
  if (found) return undefined;
  if (pythonRequired)
    throw new Error(`PULUMI_LIVE_REQUIRE_PYTHON=1 (or CI=true) but ${what} is missing: ${install}`);
  return `SKIPPED: ${what} is missing (${install}); CI requires it`;
}

/**
 * The interpreter on PATH the runtime uses by default, when it runs, by its real path: a launcher on
 * PATH (pyenv's shim) would add variables of its own to the handler's environment, and time.
 */
export const python = realExecutable(findPython());

function realExecutable(command: string | undefined): string | undefined {
  if (!command) return undefined;
  const run = spawnSync(command, ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" });
  return run.status === 0 && run.stdout.trim() ? run.stdout.trim() : command;
}
export const pythonSkip = skipReason(
  python,
  "python3",
  "apt-get install -y python3 python3-venv python3-pip",
);

/** `major.minor` of an interpreter. */
export function versionOf(command: string): string {
  const run = spawnSync(command, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], {
    encoding: "utf8",
  });
  return run.stdout.trim();
}

/** Runs a command, failing with its output when it fails. */
export function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed: ${result.error?.message ?? ""}\n${result.stderr}`);
  }
  return result.stdout;
}

/** The interpreter that can build wheels (`pip wheel` needs setuptools and wheel). */
export const wheelPython = findPython("import setuptools, wheel");
export const wheelSkip = skipReason(
  wheelPython,
  "a python3 with setuptools and wheel",
  "apt-get install -y python3-setuptools python3-wheel",
);

/**
 * Writes the tiny package `tinypkg` (one module: `VALUE = "<value>"`) under `dir/tinypkg` and builds
 * its wheel into `dir/wheels` with `pip wheel`, offline. Returns the wheels folder.
 */
export async function buildTinyWheel(dir: string, value: string): Promise<string> {
  const source = path.join(dir, "tinypkg");
  await mkdir(path.join(source, "tinypkg"), { recursive: true });
  await writeFile(
    path.join(source, "pyproject.toml"),
    '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n' +
      '[project]\nname = "tinypkg"\nversion = "1.0"\n',
  );
  await writeFile(path.join(source, "tinypkg", "__init__.py"), `VALUE = ${JSON.stringify(value)}\n`);
  const wheels = path.join(dir, "wheels");
  run(
    wheelPython!,
    ["-m", "pip", "wheel", "--no-index", "--no-build-isolation", "--no-deps", "-q", "-w", wheels, source],
    dir,
  );
  return wheels;
}
