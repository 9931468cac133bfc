import type { Problems } from "./errors";

/** Spellings accepted for the `live` switch, case-insensitive, surrounding spaces ignored. */
export const LIVE_VALUES = {
  true: ["true", "1", "yes", "on"],
  false: ["false", "0", "no", "off"],
} as const;

const ACCEPTED = [...LIVE_VALUES.true, ...LIVE_VALUES.false].join(", ");

/**
 * Parses the stack config value `live` (`pulumi config set live true`). Unset or empty means not live.
 * Returns `undefined` for a value that is not one of the accepted spellings.
 */
export function parseLiveValue(value: string | undefined): boolean | undefined {
  if (value === undefined) return false;
  const text = value.trim().toLowerCase();
  if (text === "") return false;
  if ((LIVE_VALUES.true as readonly string[]).includes(text)) return true;
  if ((LIVE_VALUES.false as readonly string[]).includes(text)) return false;
  return undefined;
}

/**
 * The one place that decides whether a function runs live: the per-function `live` argument wins, otherwise
 * the stack config `live`. A bad value is recorded in `problems` (and counts as not live).
 */
export function decideLive(
  configValue: string | undefined,
  override: unknown,
  problems: Problems,
  configKey = "live",
): boolean {
  if (override !== undefined && typeof override !== "boolean") {
    problems.add(
      "live",
      `must be true or false, got ${JSON.stringify(override)}.`,
      "Pass a boolean, or leave it out to follow the stack config `live`.",
    );
  }
  const fromConfig = parseLiveValue(configValue);
  if (fromConfig === undefined) {
    problems.add(
      `config ${configKey}`,
      `is ${JSON.stringify(configValue)}, which is not a boolean (accepted: ${ACCEPTED}).`,
      "Run `pulumi config set live true` or `pulumi config set live false`.",
    );
  }
  if (typeof override === "boolean") return override;
  return fromConfig ?? false;
}
