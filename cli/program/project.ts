/**
 * A Pulumi project as the pulumi CLI reads it, offline: `Pulumi.yaml` (name, runtime and its options,
 * `main`, project config), the stack to use and that stack's config file. Values that need a secret's
 * passphrase become placeholders. Every problem is a `UserError` that says what to do.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { findProjectRoot, PROJECT_FILES } from "../../core/handler";
import { UserError } from "../user-error";
import { placeholder } from "./placeholders";

export interface ProgramProject {
  /** The folder of Pulumi.yaml. */
  root: string;
  /** Pulumi.yaml itself. */
  file: string;
  name: string;
  /** The program's entry file, absolute. */
  main: string;
  /** `runtime.options.typescript` (default true): `.ts` files are compiled on load. */
  typescript: boolean;
  /** `runtime.options.nodeargs`, split. */
  nodeargs: string[];
  stack: string;
  /** How the stack was chosen, for messages. */
  stackSource: "--stack" | "selected" | "only" | "none";
  /** The stack's config file, when it has one. */
  stackFile?: string;
  /** Namespaced config (`demo:live`, `aws:region`), values as Pulumi passes them (text, JSON for objects). */
  config: Record<string, string>;
  secretKeys: string[];
  /** Config values replaced by placeholders, with why. */
  placeholders: string[];
}

interface RawProject {
  name?: unknown;
  runtime?: unknown;
  main?: unknown;
  config?: unknown;
  stackConfigDir?: unknown;
}

/** Reads the project at or above `cwd` and the stack's config. */
export function readProject(
  cwd: string,
  stack?: string,
  env: NodeJS.ProcessEnv = process.env,
): ProgramProject {
  const root = findProjectRoot(cwd);
  if (!root) {
    throw new UserError(
      `${cwd} is not inside a Pulumi project (no Pulumi.yaml there or above): there is no program to read ` +
        `functions from. Run in the project folder (or pass --cwd DIR), or name each function: ` +
        `--function name=path/to/file.export.`,
    );
  }
  const file = PROJECT_FILES.map((name) => path.join(root, name)).find((f) => existsSync(f))!;
  const raw = parseYaml(file) as RawProject;
  const name = typeof raw.name === "string" ? raw.name : "";
  if (!name)
    throw new UserError(`${file} has no project name (name: ...). Add one, as pulumi new writes it.`);
  const runtime = runtimeOf(raw.runtime, file);
  const main = entryFile(root, raw.main, runtime.typescript, file);
  const configDir = typeof raw.stackConfigDir === "string" ? path.resolve(root, raw.stackConfigDir) : root;
  const chosen = chooseStack(root, file, name, configDir, stack, env);
  const stackFile = chosen.stack ? stackFileOf(configDir, chosen.stack) : undefined;
  const config = new Map<string, string>();
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  const add = (key: string, value: unknown): void => {
    const full = key.includes(":") ? key : `${name}:${key}`;
    const { text, secret } = configText(full, value, placeholders);
    config.set(full, text);
    if (secret && !secretKeys.includes(full)) secretKeys.push(full);
  };
  if (raw.config && typeof raw.config === "object") {
    for (const [key, declared] of Object.entries(raw.config as Record<string, unknown>)) {
      // Project config: a plain value, or a declaration with `default` (or `value`).
      if (declared && typeof declared === "object" && !Array.isArray(declared)) {
        const d = declared as Record<string, unknown>;
        if ("value" in d) add(key, d.value);
        else if ("default" in d) add(key, d.default);
      } else add(key, declared);
    }
  }
  if (stackFile) {
    const stackConfig = (parseYaml(stackFile) as { config?: unknown } | null)?.config;
    if (stackConfig && typeof stackConfig === "object") {
      for (const [key, value] of Object.entries(stackConfig as Record<string, unknown>)) add(key, value);
    }
  }
  return {
    root,
    file,
    name,
    main,
    typescript: runtime.typescript,
    nodeargs: runtime.nodeargs,
    stack: chosen.stack ?? "local",
    stackSource: chosen.source,
    stackFile,
    config: Object.fromEntries(config),
    secretKeys,
    placeholders,
  };
}

function parseYaml(file: string): unknown {
  try {
    return parse(readFileSync(file, "utf8")) ?? {};
  } catch (error) {
    throw new UserError(
      `${file} is not valid YAML: ${(error as Error).message.split("\n")[0]}. Fix the file.`,
    );
  }
}

function runtimeOf(runtime: unknown, file: string): { typescript: boolean; nodeargs: string[] } {
  const name = typeof runtime === "string" ? runtime : (runtime as { name?: unknown } | undefined)?.name;
  if (name !== "nodejs") {
    throw new UserError(
      `${file} runs a ${JSON.stringify(name ?? "missing")} program; pulumi-live reads Node.js programs ` +
        `(runtime: nodejs). Name each function instead: --function name=path/to/file.export.`,
    );
  }
  const options = ((runtime as { options?: unknown }).options ?? {}) as Record<string, unknown>;
  const nodeargs = typeof options.nodeargs === "string" ? options.nodeargs.split(/\s+/).filter(Boolean) : [];
  return { typescript: options.typescript !== false, nodeargs };
}

/** The file Node would load for `main` (default: the project folder), as the pulumi CLI runs it. */
function entryFile(root: string, main: unknown, typescript: boolean, file: string): string {
  const given = path.resolve(root, typeof main === "string" ? main : ".");
  const stat = statSync(given, { throwIfNoEntry: false });
  if (stat?.isFile()) return given;
  if (stat?.isDirectory()) {
    const bases: string[] = [];
    const pkgFile = path.join(given, "package.json");
    if (existsSync(pkgFile)) {
      const pkgMain = (JSON.parse(readFileSync(pkgFile, "utf8")) as { main?: unknown }).main;
      if (typeof pkgMain === "string") bases.push(path.resolve(given, pkgMain));
    }
    bases.push(path.join(given, "index"));
    const extensions = ["", ".js", ...(typescript ? [".ts"] : []), ".mjs", ".cjs"];
    const found = bases
      .flatMap((base) => extensions.map((ext) => base + ext))
      .find((c) => statSync(c, { throwIfNoEntry: false })?.isFile());
    if (found) return found;
  }
  const rel = path.relative(root, given) || ".";
  throw new UserError(
    `The program ${rel} named by ${path.basename(file)} (main) does not exist` +
      (stat ? " or has no index file" : "") +
      `. If it is compiled, build it first (e.g. npm run build); else fix main in ${path.basename(file)}.`,
  );
}

function stackFileOf(dir: string, stack: string): string | undefined {
  const base = stack.split("/").pop()!;
  return ["yaml", "yml"].map((ext) => path.join(dir, `Pulumi.${base}.${ext}`)).find((f) => existsSync(f));
}

/** `--stack`, else the stack `pulumi stack select` chose (its workspace file), else the only one. */
function chooseStack(
  root: string,
  file: string,
  project: string,
  configDir: string,
  given: string | undefined,
  env: NodeJS.ProcessEnv,
): { stack?: string; source: ProgramProject["stackSource"] } {
  if (given) return { stack: given.split("/").pop(), source: "--stack" };
  // The pulumi CLI keeps the selected stack in ~/.pulumi/workspaces/<project>-<sha1 of Pulumi.yaml's
  // path>-workspace.json (sdk/go/common/workspace/workspace.go), under PULUMI_HOME when set.
  const home = env.PULUMI_HOME || path.join(os.homedir(), ".pulumi");
  const hash = createHash("sha1").update(file).digest("hex");
  const workspace = path.join(home, "workspaces", `${project}-${hash}-workspace.json`);
  try {
    const selected = (JSON.parse(readFileSync(workspace, "utf8")) as { stack?: unknown }).stack;
    if (typeof selected === "string" && selected)
      return { stack: selected.split("/").pop(), source: "selected" };
  } catch {
    // No stack selected on this machine.
  }
  const stacks = existsSync(configDir)
    ? readdirSync(configDir)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
    : [];
  if (stacks.length === 1) return { stack: stacks[0], source: "only" };
  if (stacks.length > 1) {
    throw new UserError(
      `The project ${project} (${root}) has several stacks (${stacks.join(", ")}) and none is selected: ` +
        `pass --stack NAME to read that stack's config.`,
    );
  }
  return { source: "none" };
}

/** A config value as Pulumi passes it to the program; secrets become placeholders. */
function configText(key: string, value: unknown, placeholders: string[]): { text: string; secret: boolean } {
  let secret = false;
  const replace = (v: unknown): unknown => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 1 && entries[0][0] === "secure") {
        secret = true;
        placeholders.push(`secret config ${key}`);
        return placeholder(`secret ${key}`);
      }
      return Object.fromEntries(entries.map(([k, inner]) => [k, replace(inner)]));
    }
    return Array.isArray(v) ? v.map(replace) : v;
  };
  const plain = replace(value);
  return { text: typeof plain === "string" ? plain : JSON.stringify(plain), secret };
}
