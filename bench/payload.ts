import { randomUUID } from "node:crypto";

/** Random base64-like text: compression cannot shrink it much, as for binary payloads. */
export function randomText(bytes: number): string {
  let data = "";
  while (data.length < bytes) data += randomUUID().replace(/-/g, "") + Math.random().toString(36).slice(2);
  return data.slice(0, bytes);
}
