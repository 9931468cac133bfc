import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { SignatureV4, createScope, getCanonicalHeaders, getSigningKey } from "@smithy/signature-v4";

/** What the verifier needs of the credentials an access key id stands for. */
export interface SigningSecret {
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type Verdict = { ok: true; accessKeyId: string } | { ok: false; reason: string };

const ALGORITHM = "AWS4-HMAC-SHA256";
const SERVICE = "iotdevicegateway";
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/**
 * A signed request must reach AWS within five minutes of its X-Amz-Date, and a presigned one with
 * X-Amz-Expires no later than that many seconds after it
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
 */
const SKEW_MS = 5 * 60_000;

/** node:crypto in the shape @smithy/signature-v4 wants (`new Sha256(secret?)`, `update`, `digest`). */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof data === "string") return data;
  return ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data);
}

/** The signer's canonical request and string to sign, which it keeps protected. */
class Recomputer extends SignatureV4 {
  canonicalRequest(...args: Parameters<SignatureV4["createCanonicalRequest"]>): string {
    return this.createCanonicalRequest(...args);
  }
  stringToSign(...args: Parameters<SignatureV4["createStringToSign"]>): Promise<string> {
    return this.createStringToSign(...args);
  }
}

/** The query as sent: `+` stays `+` (SigV4 encodes a space as %20), values decoded once. */
function parseQuery(search: string): [string, string][] {
  return search
    .replace(/^\?/, "")
    .split("&")
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf("=");
      const name = at < 0 ? pair : pair.slice(0, at);
      const value = at < 0 ? "" : pair.slice(at + 1);
      return [decodeURIComponent(name), decodeURIComponent(value)];
    });
}

function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

/**
 * Verifies a SigV4 query-signed WebSocket upgrade to AWS IoT Core's `/mqtt` as the device gateway does:
 * algorithm, credential scope (this region, service `iotdevicegateway`), time, the signed headers as they
 * arrived, and the signature recomputed with @smithy/signature-v4 (the AWS SDK's signer, independent of
 * the signers under test). `X-Amz-Security-Token` is appended after signing and is not part of the
 * signature (https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html, "MQTT over the
 * WebSocket protocol"); it must match the temporary credentials' token.
 */
export async function verifyPresignedUpgrade(options: {
  path: string;
  headers: IncomingHttpHeaders;
  region: string;
  secretFor(accessKeyId: string): SigningSecret | undefined;
  now?: number;
}): Promise<Verdict> {
  const now = options.now ?? Date.now();
  const url = new URL(options.path, "https://x");
  if (url.pathname !== "/mqtt") return { ok: false, reason: `path ${url.pathname} is not /mqtt` };
  const query = parseQuery(url.search);
  const get = (name: string) => query.find(([n]) => n === name)?.[1];
  if (get("X-Amz-Algorithm") !== ALGORITHM) return { ok: false, reason: "X-Amz-Algorithm is not SigV4" };
  const [accessKeyId, day, region, service, terminator] = (get("X-Amz-Credential") ?? "").split("/");
  if (!accessKeyId || !day || terminator !== "aws4_request")
    return { ok: false, reason: "X-Amz-Credential is malformed" };
  if (region !== options.region) return { ok: false, reason: `signed for region ${region}` };
  if (service !== SERVICE) return { ok: false, reason: `signed for service ${service}` };
  const longDate = get("X-Amz-Date") ?? "";
  const signedAt = parseAmzDate(longDate);
  if (!signedAt || longDate.slice(0, 8) !== day) return { ok: false, reason: "X-Amz-Date is malformed" };
  const expires = get("X-Amz-Expires");
  const validUntil = signedAt.getTime() + (expires ? Number(expires) * 1000 : SKEW_MS);
  if (now > validUntil || signedAt.getTime() - now > SKEW_MS)
    return { ok: false, reason: "the signature has expired" };
  const secret = options.secretFor(accessKeyId);
  if (!secret) return { ok: false, reason: `unknown access key ${accessKeyId}` };
  if (secret.expiration && secret.expiration.getTime() <= now)
    return { ok: false, reason: "the security token included in the request is expired" };
  if ((secret.sessionToken ?? undefined) !== get("X-Amz-Security-Token"))
    return { ok: false, reason: "the security token included in the request is invalid" };
  const signedHeaders = (get("X-Amz-SignedHeaders") ?? "").split(";").filter(Boolean);
  if (!signedHeaders.includes("host")) return { ok: false, reason: "the host header is not signed" };

  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = options.headers[name];
    if (value === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const unsigned = new Set(["X-Amz-Signature", "X-Amz-Security-Token"]);
  const request = {
    method: "GET",
    protocol: "https:",
    hostname: headers.host,
    path: url.pathname,
    query: Object.fromEntries(query.filter(([n]) => !unsigned.has(n))),
    headers,
  };
  const signer = new Recomputer({
    credentials: { accessKeyId, secretAccessKey: secret.secretAccessKey },
    region,
    service,
    sha256: Sha256,
  });
  const canonical = signer.canonicalRequest(
    request,
    getCanonicalHeaders(request, undefined, new Set(signedHeaders)),
    EMPTY_SHA256,
  );
  const scope = createScope(day, region, service);
  const stringToSign = await signer.stringToSign(longDate, scope, canonical, ALGORITHM);
  const key = await getSigningKey(
    Sha256,
    { accessKeyId, secretAccessKey: secret.secretAccessKey },
    day,
    region,
    service,
  );
  const expected = createHmac("sha256", key).update(stringToSign).digest();
  const given = Buffer.from(get("X-Amz-Signature") ?? "", "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: "the request signature does not match" };
  return { ok: true, accessKeyId };
}
