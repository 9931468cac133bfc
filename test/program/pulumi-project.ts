import { mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import { tempProject, type TempProject } from "../runtime/temp-project";

const repo = path.join(__dirname, "../../..");

/**
 * A Pulumi project in a temp folder whose `node_modules` links this checkout's `@pulumi` packages and
 * `pulumi-live` itself, so a program there imports them as an installed project would.
 */
export async function pulumiProject(files: Record<string, string>): Promise<TempProject> {
  const project = await tempProject(files);
  await mkdir(project.path("node_modules"), { recursive: true });
  await symlink(path.join(repo, "node_modules", "@pulumi"), project.path("node_modules/@pulumi"), "dir");
  await symlink(repo, project.path("node_modules/pulumi-live"), "dir");
  return project;
}

/** A handler that answers with what it was configured with. */
export const ECHO_HANDLER = `export async function handler(event: unknown) {
  return { statusCode: 200, body: JSON.stringify({ env: process.env.GREETING, event }) };
}
`;
