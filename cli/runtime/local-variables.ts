/** The developer's explicit local variables: what `--env` and the env file add to every local handler. */
import path from "node:path";
import { DEFAULT_ENV_FILE, parseEnvFlags, readEnvFile } from "../../core/local-environment";
import { UserError } from "../user-error";

/** Where the developer's local variables come from: `--env-file FILE` and `--env KEY=VALUE` flags. */
export interface LocalVariableFlags {
  env?: readonly string[];
  /** Relative to `cwd`; {@link DEFAULT_ENV_FILE} under the project folder when absent (if it exists). */
  envFile?: string;
}

/**
 * The developer's explicit local variables: the env file's, then the `--env` flags over them. Problems
 * are added to `problems` when given, else thrown together as a UserError.
 */
export function localVariables(
  root: string,
  flags: LocalVariableFlags,
  cwd = process.cwd(),
  problems?: string[],
): Record<string, string> {
  const found: string[] = [];
  const file =
    flags.envFile === undefined ? path.join(root, DEFAULT_ENV_FILE) : path.resolve(cwd, flags.envFile);
  let fromFile: Record<string, string> | undefined;
  try {
    fromFile = readEnvFile(file);
    if (!fromFile && flags.envFile !== undefined) {
      found.push(`--env-file ${flags.envFile}: there is no file ${file}. Create it, or fix the path.`);
    }
  } catch (error) {
    found.push(`--env-file: ${(error as Error).message}`);
  }
  const fromFlags = parseEnvFlags(flags.env ?? [], "--env", found);
  if (problems) problems.push(...found);
  else if (found.length > 0) throw new UserError(found);
  return { ...fromFile, ...fromFlags };
}
