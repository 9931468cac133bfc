/** One thing a user got wrong in a `LiveFunction`'s arguments or config. */
export interface LiveFunctionProblem {
  /** The option at fault, as the user writes it (`handler`, `role`, `bundle.loader`, config `live`). */
  option: string;
  /** What happened. */
  message: string;
  /** What to do about it. */
  fix: string;
}

/**
 * The one error class users see from `LiveFunction`: it names the function and lists every problem found
 * in one run, each with the option and the fix. Bugs in pulumi-live itself stay plain `Error`s.
 */
export class LiveFunctionError extends Error {
  override readonly name = "LiveFunctionError";

  constructor(
    readonly functionName: string,
    readonly problems: readonly LiveFunctionProblem[],
  ) {
    super(LiveFunctionError.format(functionName, problems));
  }

  /** The message text: a header, then one line per problem. */
  static format(functionName: string, problems: readonly LiveFunctionProblem[]): string {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    const lines = problems.map((p) => `  - ${p.option}: ${p.message} ${p.fix}`);
    return [`LiveFunction "${functionName}" has ${count}:`, ...lines].join("\n");
  }
}

/** Collects problems while arguments are checked, so all of them are reported together. */
export class Problems {
  readonly list: LiveFunctionProblem[] = [];

  add(option: string, message: string, fix: string): void {
    this.list.push({ option, message, fix });
  }

  /** Throws a `LiveFunctionError` naming `functionName` when anything was found. */
  throwIfAny(functionName: string): void {
    if (this.list.length > 0) throw new LiveFunctionError(functionName, this.list);
  }
}
