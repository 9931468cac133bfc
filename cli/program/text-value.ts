/** A recorded input or output as text: strings as they are, numbers and booleans spelled, anything else "". */
export function textValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return "";
}
