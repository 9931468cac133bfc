import { readFileSync } from "node:fs";
import { UserError } from "../user-error";

/** Where `serve` and `status` connect instead of the stack's recorded IoT endpoint, and whom they trust. */
export interface EndpointOverride {
  /** `--endpoint HOST[:PORT]`: an IoT custom domain or a VPC interface endpoint's DNS name. */
  host: string;
  /** @default 443 */
  port?: number;
  /** `--ca-file PATH`: a PEM bundle of certificate authorities to trust instead of the default ones. */
  caFile?: string;
}

/**
 * Reads `--endpoint HOST[:PORT]` and `--ca-file PATH`. The connection stays AWS IoT's: TLS, the stack's
 * client ids and last will, a SigV4-signed WebSocket handshake for the stack's region (signed for the
 * host it goes to, as custom domains and VPC endpoints expect).
 */
export function parseEndpointOptions(endpoint?: string, caFile?: string): EndpointOverride | undefined {
  if (caFile !== undefined) {
    try {
      readFileSync(caFile);
    } catch (error) {
      throw new UserError(
        `--ca-file ${caFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}). ` +
          "Pass the PEM file of the certificate authority your IoT endpoint's certificate comes from.",
      );
    }
  }
  if (endpoint === undefined) return caFile === undefined ? undefined : { host: "", caFile };
  const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::(\d{1,5}))?$/.exec(endpoint.trim());
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!m || (port !== undefined && (port < 1 || port > 65535))) {
    throw new UserError(
      `--endpoint takes HOST or HOST:PORT, e.g. iot.example.com or vpce-0abc.data.iot.eu-west-1.vpce.amazonaws.com:443 ` +
        `(got "${endpoint}"); no scheme, no path: the connection is always wss://HOST:PORT/mqtt.`,
    );
  }
  return { host: m[1], port, caFile };
}
