import { createHash, createHmac } from "node:crypto";
import type { AwsCredentials } from "../core/credentials";

export type { AwsCredentials };

export interface PresignOptions {
  /** AWS IoT data endpoint host (`xxxx-ats.iot.REGION.amazonaws.com`). */
  endpoint: string;
  region: string;
  credentials: AwsCredentials;
  /** Signing time; injectable for tests. */
  date?: Date;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const SERVICE = "iotdevicegateway";
const PATH = "/mqtt";
/** SHA-256 of the empty body: a WebSocket upgrade has none. */
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves `!'()*` alone). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** `20240102T030405Z`. */
function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

/**
 * Presigns the MQTT-over-WebSocket URL of AWS IoT Core with SigV4 (query parameters).
 * The session token is appended after the signature and is not part of it: IoT Core's device gateway
 * expects exactly that, unlike every other service.
 */
export function presignIotUrl(options: PresignOptions): string {
  const { endpoint, region, credentials } = options;
  const time = amzDate(options.date ?? new Date());
  const day = time.slice(0, 8);
  const scope = `${day}/${region}/${SERVICE}/aws4_request`;
  // Already in the byte order of their names, as the canonical query string must be.
  const query = [
    ["X-Amz-Algorithm", ALGORITHM],
    ["X-Amz-Credential", `${credentials.accessKeyId}/${scope}`],
    ["X-Amz-Date", time],
    ["X-Amz-SignedHeaders", "host"],
  ]
    .map(([name, value]) => `${name}=${encode(value)}`)
    .join("&");
  const canonicalRequest = ["GET", PATH, query, `host:${endpoint}`, "", "host", EMPTY_SHA256].join("\n");
  const stringToSign = [
    ALGORITHM,
    time,
    scope,
    createHash("sha256").update(canonicalRequest, "utf8").digest("hex"),
  ].join("\n");
  const signingKey = hmac(
    hmac(hmac(hmac("AWS4" + credentials.secretAccessKey, day), region), SERVICE),
    "aws4_request",
  );
  const signature = createHmac("sha256", signingKey).update(stringToSign, "utf8").digest("hex");
  const token = credentials.sessionToken ? `&X-Amz-Security-Token=${encode(credentials.sessionToken)}` : "";
  return `wss://${endpoint}${PATH}?${query}&X-Amz-Signature=${signature}${token}`;
}
