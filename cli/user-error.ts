/**
 * A problem the user can fix (a wrong flag, a missing file, a broken config). Its message says what
 * happened and what to do; the CLI prints it without a stack trace and exits 2. Bugs stay plain `Error`.
 * One error may carry several problems: commands report every problem they find at once, each with its
 * fix, rather than one per run.
 */
export class UserError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === "string" ? [problems] : [...problems];
    super(list.join("\n"));
    this.name = "UserError";
    this.problems = list;
  }

  /** The problems of every `UserError` among `errors` as one error; undefined when there are none. */
  static combine(errors: readonly unknown[]): UserError | undefined {
    const problems = errors.flatMap((e) => (e instanceof UserError ? e.problems : []));
    return problems.length > 0 ? new UserError(problems) : undefined;
  }
}

/**
 * A command line that does not fit the command's options: unknown flags, missing or malformed values,
 * flags that do not go together. The CLI adds how to see the command's help.
 */
export class UsageError extends UserError {
  constructor(
    /** The command, e.g. "serve"; empty for the top level. */
    readonly command: string,
    problems: string | readonly string[],
  ) {
    super(problems);
    this.name = "UsageError";
  }
}
