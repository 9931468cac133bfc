/**
 * What a locally served handler sees in `process.env`, and from where: the function's own variables (as
 * its stub sent them, or as recorded), Lambda's markers for local runs, a short list of this machine's
 * basics, and the developer's explicit local overrides (`--env`, the env file). Nothing else of the shell
 * that runs `serve` — no tokens, no passphrases, no AWS profile — reaches handler code. The session,
 * replay and local mode all build a worker's environment here. Node.js built-ins only.
 */
import { readFileSync } from "node:fs";
import { devNull } from "node:os";
import { parseEnv } from "node:util";
import { MACHINE_ENV, STUB_ENV } from "../protocol/environment";

/**
 * The developer's machine variables a local handler keeps: where programs and the home and temp folders
 * are, who runs it, the terminal (and Windows' own basics, without which Node cannot resolve names or
 * find its folders). Compared without case, as Windows names are.
 */
export const MACHINE_BASICS: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "TMPDIR",
  "TMP",
  "TEMP",
  "TERM",
  "SYSTEMROOT",
  "SYSTEMDRIVE",
  "WINDIR",
  "COMSPEC",
  "PATHEXT",
  "USERPROFILE",
  "APPDATA",
  "LOCALAPPDATA",
  "PROGRAMDATA",
];

/** Set for every local handler (`if (process.env.PULUMI_LIVE)` picks local resources). */
export const LOCAL_MARKERS = { PULUMI_LIVE: "true", IS_LOCAL: "true" } as const;

/**
 * Variables that change how Node.js or the dynamic loader run code, for this process or the programs a
 * handler starts: a request never sets these, whoever sealed it (the stub leaves them out; a request that
 * carries them anyway is filtered on receipt).
 */
const LOADER_VARIABLES = /^(LD_|DYLD_)|^NODE_(OPTIONS|PATH|EXTRA_CA_CERTS|REPL_EXTERNAL_MODULE)$/;

const BASICS = new Set(MACHINE_BASICS);
const STUB_NAMES = new Set<string>(Object.values(STUB_ENV));

/**
 * The function's environment as it may be applied: without machine variables of the remote side, the
 * stub's own settings, or anything that changes how code is loaded.
 */
export function receivedEnvironment(fn: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn)) {
    if (typeof value !== "string") continue;
    if (MACHINE_ENV.has(name) || STUB_NAMES.has(name) || LOADER_VARIABLES.test(name.toUpperCase())) continue;
    out[name] = value;
  }
  return out;
}

/**
 * What a local handler sees: this machine's basics (from `machine`, the shell that runs `serve`), the
 * function's variables over them, the local markers, and `local` (the developer's explicit overrides)
 * over everything. The AWS SDK's shared config and credentials files point at nothing unless the
 * function sets them, so the developer's profiles, SSO sessions, regions and endpoints stay out: the
 * SDK resolves exactly the function's credentials and settings.
 */
export function localEnvironment(
  machine: NodeJS.ProcessEnv,
  fn: Record<string, string>,
  local: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(machine)) {
    if (value !== undefined && BASICS.has(name.toUpperCase())) out[name] = value;
  }
  Object.assign(out, { AWS_CONFIG_FILE: devNull, AWS_SHARED_CREDENTIALS_FILE: devNull });
  Object.assign(out, receivedEnvironment(fn), LOCAL_MARKERS, local);
  return out;
}

/** The env file `serve` reads when it exists, relative to the project folder. */
export const DEFAULT_ENV_FILE = ".pulumi-live/local.env";

/**
 * Reads a dotenv-style file (`KEY=value` lines, `#` comments, optional quotes and `export`), as Node's
 * `--env-file` does. Undefined when the file does not exist.
 * @throws Error naming the file when it cannot be read.
 */
export function readEnvFile(file: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return undefined;
    throw new Error(`Cannot read the env file ${file}: ${(error as Error).message}`);
  }
  return parseEnv(text) as Record<string, string>;
}

/**
 * Parses `KEY=VALUE` flags; every malformed one is reported in `problems`.
 * @param flag the flag's name, for messages.
 */
export function parseEnvFlags(
  pairs: readonly string[],
  flag: string,
  problems: string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals < 1) problems.push(`Invalid ${flag} "${pair}": expected KEY=VALUE.`);
    else out[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return out;
}
