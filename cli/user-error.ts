/**
 * A problem the user can fix (a wrong flag, a missing file, a broken config). Its message says what
 * happened and what to do; the CLI prints it without a stack trace. Bugs stay plain `Error`.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
