/**
 * Build folders a killed `serve` (or replay) left behind. Each process builds into folders named after
 * its pid (`.pulumi-live/build/<function>/<pid>-<n>`, `.pulumi-live/build/replay/<function>/<pid>`) and
 * removes them when it closes; a process that was killed cannot, so the next one removes the folders of
 * processes that are gone. Folders of processes still running are left alone.
 */
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { LOCAL_FOLDER } from "../../core/names";

/** Removes the build folders of processes that no longer run; returns the folders removed. */
export async function removeStaleBuilds(root: string): Promise<string[]> {
  const builds = path.join(root, LOCAL_FOLDER, "build");
  const folders: string[] = [];
  for (const fn of await names(builds)) {
    const parent = fn === "replay" ? (await names(path.join(builds, fn))).map((f) => path.join(fn, f)) : [fn];
    for (const dir of parent) {
      for (const name of await names(path.join(builds, dir))) {
        const pid = /^(\d+)(?:-\d+)?$/.exec(name)?.[1];
        if (pid && !running(Number(pid))) folders.push(path.join(builds, dir, name));
      }
    }
  }
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  return folders;
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

/** Whether a process runs (one of another user's still counts). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === "EPERM";
  }
}
