/** Limits of AWS IoT Core and AWS Lambda that the protocol must respect. */

/** IoT Core rejects a publish larger than 128 KB; we count the whole MQTT PUBLISH packet. */
export const MAX_PUBLISH_BYTES = 128 * 1024;
/** IoT Core topic limits. */
export const MAX_TOPIC_BYTES = 256;
export const MAX_TOPIC_SLASHES = 7;
export const MAX_CLIENT_ID_BYTES = 128;
/**
 * IoT Core's per-connection quotas: publish requests per second and throughput, in each direction
 * (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits).
 */
export const MAX_CONNECTION_PUBLISHES_PER_SECOND = 100;
export const MAX_CONNECTION_BYTES_PER_SECOND = 512 * 1024;

/** Lambda's synchronous invocation limits (bytes), as Lambda enforces and reports them. */
export const MAX_REQUEST_PAYLOAD_BYTES = 6_291_456;
export const MAX_RESPONSE_PAYLOAD_BYTES = 6_291_556;
