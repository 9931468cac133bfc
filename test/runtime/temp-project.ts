import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** A handler project in a fresh temp folder; `remove` deletes it. */
export interface TempProject {
  root: string;
  /** Writes files (creating folders), paths relative to the root. */
  write(files: Record<string, string>): Promise<void>;
  /** Absolute path of a project file. */
  path(relative: string): string;
  remove(): Promise<void>;
}

export async function tempProject(files: Record<string, string> = {}): Promise<TempProject> {
  // realpath: macOS' tmpdir is a symlink, and builds report resolved paths.
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "pulumi-live-runtime-")));
  const project: TempProject = {
    root,
    path: (relative) => path.join(root, relative),
    async write(more) {
      for (const [name, text] of Object.entries(more)) {
        await mkdir(path.dirname(project.path(name)), { recursive: true });
        await writeFile(project.path(name), text);
      }
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
  await project.write(files);
  return project;
}
