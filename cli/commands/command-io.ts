/** What a command reads and writes, injected so tests run commands in-process. */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The folder the command runs in (the project root). */
  cwd: string;
  env: NodeJS.ProcessEnv;
}
