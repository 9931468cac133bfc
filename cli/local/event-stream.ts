/**
 * AWS's event stream encoding (`application/vnd.amazon.eventstream`), as the Lambda API frames an
 * `InvokeWithResponseStream` answer (https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html):
 * each message is total length (4) | headers length (4) | CRC32 of those 8 bytes (4) | headers | payload |
 * CRC32 of all before it (4); each header is name length (1) | name | type 7, a string (1) | value
 * length (2) | value. The events are `PayloadChunk` (the bytes as the payload) and `InvokeComplete`
 * (JSON: `ErrorCode`, `ErrorDetails`, `LogResult`).
 */
import { crc32 } from "node:zlib";

const STRING_HEADER = 7;

function header(name: string, value: string): Buffer {
  const nameBytes = Buffer.from(name);
  const valueBytes = Buffer.from(value);
  const out = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
  out[0] = nameBytes.length;
  nameBytes.copy(out, 1);
  out[1 + nameBytes.length] = STRING_HEADER;
  out.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
  valueBytes.copy(out, 4 + nameBytes.length);
  return out;
}

/** One event message: `:message-type` event, the event's type and its payload's content type. */
export function eventMessage(eventType: string, contentType: string, payload: Buffer): Buffer {
  const headers = Buffer.concat([
    header(":event-type", eventType),
    header(":content-type", contentType),
    header(":message-type", "event"),
  ]);
  const total = 12 + headers.length + payload.length + 4;
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headers.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const message = Buffer.concat([prelude, headers, payload, Buffer.alloc(4)]);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}

/** A `PayloadChunk` event: some of the function's bytes. */
export function payloadChunk(data: Buffer): Buffer {
  return eventMessage("PayloadChunk", "application/octet-stream", data);
}

/** The `InvokeComplete` event that ends every answer; an error's type and message when the function failed. */
export function invokeComplete(end: {
  errorCode?: string;
  errorDetails?: string;
  logResult?: string;
}): Buffer {
  const body: Record<string, string> = {};
  if (end.errorCode !== undefined) body.ErrorCode = end.errorCode;
  if (end.errorDetails !== undefined) body.ErrorDetails = end.errorDetails;
  if (end.logResult !== undefined) body.LogResult = end.logResult;
  return eventMessage("InvokeComplete", "application/json", Buffer.from(JSON.stringify(body)));
}
