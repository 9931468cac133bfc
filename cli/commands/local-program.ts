/**
 * `serve --local` without `--function`: the functions to serve and their triggers, read from the Pulumi
 * program of the project (run under mocks), with the values local mode could not know listed.
 */
import path from "node:path";
import { FUNCTION_TYPE } from "../../core/names";
import type { HttpSource } from "../local/events/http-sources";
import { CONTROL_PREFIX } from "../local/gateway";
import { localAppOf, type LocalApp } from "../program/local-app";
import { placeholdersIn } from "../program/placeholders";
import { readProject, type ProgramProject } from "../program/project";
import { runProgram } from "../program/run-program";
import { UserError } from "../user-error";
import { FUNCTION_FLAG_HINT } from "../program/program-error";

/** One function to serve, with what the program (or the flags) say about it. */
export interface PlannedFunction {
  name: string;
  file: string;
  exportName: string;
  /** Seconds; undefined for the mode's default. */
  timeoutSeconds?: number;
  memoryMB?: number;
  environment: Record<string, string>;
  /** The front door `/{name}/...` imitates, when the program declares one. */
  httpSource?: HttpSource;
}

export interface ProgramPlan {
  project: ProgramProject;
  app: LocalApp;
  functions: PlannedFunction[];
  region: string;
  account: string;
  /** Lines to show once at start: what is not emulated, placeholders to override. */
  notices: string[];
}

export async function planFromProgram(options: {
  cwd: string;
  stack?: string;
  gatewayUrl: string;
  env: Record<string, string>;
  timeoutMs?: number;
}): Promise<ProgramPlan> {
  const project = readProject(options.cwd, options.stack);
  const run = await runProgram({
    project,
    gatewayUrl: options.gatewayUrl,
    timeoutMs: options.timeoutMs,
    cwd: options.cwd,
  });
  const app = localAppOf(run.resources, project.root);
  const main = path.relative(options.cwd, project.main) || project.main;
  if (app.problems.length > 0)
    throw new UserError(
      `${app.problems.join("\n")}\nRestore the file or fix the handler in ${main}. ${FUNCTION_FLAG_HINT}`,
    );
  if (app.functions.length === 0) {
    const others = run.resources
      .filter((r) => r.custom && r.type === "aws:lambda/function:Function")
      .map((r) => r.name);
    throw new UserError(
      `The Pulumi program ${main} declares no LiveFunction (type ${FUNCTION_TYPE}), so there is nothing to serve` +
        (others.length > 0 ? ` (its aws.lambda.Function ${others.join(", ")} run deployed code)` : "") +
        `. Use LiveFunction from "pulumi-live" for the functions to develop locally. ${FUNCTION_FLAG_HINT}`,
    );
  }
  const reserved = CONTROL_PREFIX.split("/")[1];
  const names = [...app.functions.map((f) => f.name), ...app.apis.map((a) => a.name)];
  const clash = names.find((n, i) => n === reserved || names.indexOf(n) !== i);
  if (clash) {
    throw new UserError(
      `Two things of the program are named "${clash}" (or it is pulumi-live's own "${reserved}"): the gateway serves each at /NAME/. Rename one.`,
    );
  }
  const notices: string[] = [];
  for (const item of app.notEmulated)
    notices.push(`not emulated: ${item.resource} (${item.type}); instead: ${item.instead}`);
  for (const token of run.unknownCalls)
    notices.push(`not emulated: the lookup ${token} answered nothing under mocks`);
  const functions = app.functions.map((fn): PlannedFunction => {
    for (const [key, value] of Object.entries(fn.environment)) {
      if (key in options.env) continue;
      for (const what of placeholdersIn(value)) {
        notices.push(
          `${fn.name}: ${key} holds a placeholder for the ${what}; set it with --env ${key}=VALUE`,
        );
      }
    }
    return {
      name: fn.name,
      file: fn.file,
      exportName: fn.exportName,
      ...(fn.timeoutSeconds !== undefined ? { timeoutSeconds: fn.timeoutSeconds } : {}),
      ...(fn.memoryMB !== undefined ? { memoryMB: fn.memoryMB } : {}),
      environment: fn.environment,
      ...(fn.functionUrl ? { httpSource: "function-url" as const } : {}),
    };
  });
  return { project, app, functions, region: run.region, account: run.account, notices };
}
