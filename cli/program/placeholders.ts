/**
 * Values local mode cannot know offline (a secret without its passphrase, a lookup that needs the cloud)
 * reach the program as recognizable placeholder text, so its functions still start and the user is told
 * which variables to set with `--env`.
 */
const OPEN = "[pulumi-live placeholder: ";
const PATTERN = /\[pulumi-live placeholder: ([^\]]*)\]/g;

/** `[pulumi-live placeholder: secret demo:dbPassword]` */
export function placeholder(what: string): string {
  return `${OPEN}${what}]`;
}

/** What each placeholder in `text` stands for. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PATTERN)].map((m) => m[1]);
}
