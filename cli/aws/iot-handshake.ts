import { auth, type http, type mqtt } from "aws-iot-device-sdk-v2";
import type { CredentialsSource } from "./credentials";

/** `mqtt.MqttConnectionConfig.websocket_handshake_transform`. */
export type HandshakeTransform = NonNullable<mqtt.MqttConnectionConfig["websocket_handshake_transform"]>;

/** aws-c-common's AWS_ERROR_UNKNOWN, for failures that carry no CRT error code. */
const AWS_ERROR_UNKNOWN = 3;

/**
 * Signs each WebSocket handshake to AWS IoT with SigV4 (query parameters, service `iotdevicegateway`, the
 * session token appended after signing), using credentials fetched for that handshake. aws-crt's own
 * transform takes a native credentials provider, and aws-crt for Node has no provider that calls back
 * into JavaScript (no delegate provider): so every connect and reconnect gets the source's current
 * credentials, refreshed before they expire, wrapped in a static provider.
 */
export function sigv4Handshake(
  region: string,
  credentials: CredentialsSource,
  onError?: (error: Error) => void,
): HandshakeTransform {
  return (request: http.HttpRequest, done: (errorCode?: number) => void) => {
    void (async () => {
      try {
        const c = await credentials.get();
        await auth.aws_sign_request(request, {
          algorithm: auth.AwsSigningAlgorithm.SigV4,
          signature_type: auth.AwsSignatureType.HttpRequestViaQueryParams,
          provider: auth.AwsCredentialsProvider.newStatic(c.accessKeyId, c.secretAccessKey, c.sessionToken),
          region,
          service: "iotdevicegateway",
          signed_body_value: auth.AwsSignedBodyValue.EmptySha256,
          omit_session_token: true,
        });
        done();
      } catch (error) {
        try {
          onError?.(error as Error);
        } catch {
          // reporting must not keep the handshake from failing cleanly
        }
        done((error as { error_code?: number }).error_code ?? AWS_ERROR_UNKNOWN);
      }
    })();
  };
}
