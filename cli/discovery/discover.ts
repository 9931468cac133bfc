import path from "node:path";
import { functionId as toFunctionId } from "../../protocol";
import { findProjectRoot, SOURCE_EXTENSIONS } from "../../core/handler";
import { isPythonRuntime, PYTHON_EXTENSION } from "../../core/python";
import { resolveHandlerFile } from "../runtime/handler-spec";
import { UserError } from "../user-error";
import { exportStack, type StackSelector } from "./pulumi-cli";
import { parseStackExport, type StackFunction, type StackSession } from "./stack-export";

export interface DiscoverOptions {
  /** `--stack NAME`; the selected stack when absent. */
  stack?: string;
  /** The project folder (`--cwd`); the current directory when absent. */
  cwd?: string;
  /** `--only a,b`: serve these functions only (the others fall back or fail fast, as their stub decides). */
  only?: string[];
  /** Environment of the `pulumi` process; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
}

/** A live function to serve, with its local source found. */
export interface DiscoveredFunction extends StackFunction {
  /** Absolute path of the handler's source file. */
  file: string;
  exportName: string;
}

export interface DiscoveredStack {
  /** The folder of Pulumi.yaml, against which handlers resolve. */
  root: string;
  project: string;
  stack: string;
  session: StackSession;
  /** Every LiveFunction of the stack, live or not (for `status`). */
  all: StackFunction[];
  /** The live functions to serve (after `--only`). */
  functions: DiscoveredFunction[];
}

/** The folder of the nearest Pulumi.yaml at or above `dir`, as the pulumi CLI finds it. */
export function projectRoot(dir: string): string {
  return findProjectRoot(dir) ?? path.resolve(dir);
}

/** Splits `file.export` into the source file (resolved under root) and the export. */
function locateHandler(fn: StackFunction, root: string): DiscoveredFunction {
  const dot = fn.handler.lastIndexOf(".");
  const modulePath = fn.handler.slice(0, dot);
  try {
    const file = resolveHandlerFile(root, modulePath, fn.runtime);
    return { ...fn, file, exportName: fn.handler.slice(dot + 1) };
  } catch {
    const extensions = isPythonRuntime(fn.runtime) ? PYTHON_EXTENSION : `{${SOURCE_EXTENSIONS.join(",")}}`;
    throw new UserError(
      `LiveFunction "${fn.name}" runs the handler ${fn.handler}, and no file ${modulePath}` +
        `${extensions} exists under ${root}. Restore the file; or, if it moved, point the ` +
        `function's handler at its new path and deploy: pulumi up. To serve the other functions meanwhile, ` +
        `leave this one out: --only NAME,...`,
    );
  }
}

/** What the user runs to deploy in live mode, with their `--stack` if they gave one. */
export function liveModeCommand(stack?: string): string {
  const flag = stack ? ` --stack ${stack}` : "";
  return `pulumi config set live true${flag} && pulumi up${flag}`;
}

/** The stack as recorded, before any check: what `status` shows. */
export interface StackRecord {
  root: string;
  project: string;
  stack: string;
  session?: StackSession;
  functions: StackFunction[];
}

/** Reads the stack through the pulumi CLI (`pulumi stack export --show-secrets`). */
export async function readStack(options: DiscoverOptions = {}): Promise<StackRecord> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const selector: StackSelector = { stack: options.stack, cwd };
  const json = await exportStack(selector, options.env);
  const parsed = parseStackExport(json, options.stack ? `"${options.stack}"` : "(the selected one)");
  return { root: projectRoot(cwd), ...parsed };
}

/** Whether a function's handler source exists under the project root. */
export function handlerExists(fn: StackFunction, root: string): boolean {
  try {
    locateHandler(fn, root);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads the stack through the pulumi CLI and returns its session and the live functions to serve, with
 * their local sources. Every problem the user can fix is a `UserError` naming the command that fixes it.
 */
export async function discoverStack(options: DiscoverOptions = {}): Promise<DiscoveredStack> {
  const record = await readStack(options);
  const stackName = `${record.project}/${record.stack}`;
  if (record.functions.length === 0) {
    throw new UserError(
      `The stack ${stackName} has no LiveFunction: there is nothing to serve. Use LiveFunction from ` +
        `"pulumi-live" in your program for the functions to develop live, then: ${liveModeCommand(options.stack)}`,
    );
  }
  const live = record.functions.filter((f) => f.live);
  if (!record.session || live.length === 0) {
    throw new UserError(
      `The stack ${stackName} has no live functions: it was deployed with live mode off, so its functions ` +
        `run their deployed code. Deploy it in live mode: ${liveModeCommand(options.stack)}`,
    );
  }
  let selected = live;
  if (options.only && options.only.length > 0) {
    const byName = new Map(record.functions.map((f) => [f.name, f]));
    const byId = new Map(record.functions.map((f) => [f.functionId, f]));
    const problems: string[] = [];
    selected = [];
    for (const wanted of options.only) {
      const fn = byName.get(wanted) ?? byId.get(toFunctionId(wanted));
      if (!fn) problems.push(`--only names "${wanted}", which the stack does not have.`);
      else if (!fn.live) {
        problems.push(
          `--only names "${wanted}", which is not live (live: false on the function). Set it live and ` +
            `deploy: pulumi up`,
        );
      } else if (!selected.includes(fn)) selected.push(fn);
    }
    if (problems.length > 0) {
      const names = live.map((f) => f.name).join(", ");
      throw new UserError(`${problems.join("\n")}\nThe live functions of ${stackName}: ${names}.`);
    }
  }
  return {
    root: record.root,
    project: record.project,
    stack: record.stack,
    session: record.session,
    all: record.functions,
    functions: selected.map((fn) => locateHandler(fn, record.root)),
  };
}
