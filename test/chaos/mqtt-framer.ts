/** Cuts a byte stream into whole MQTT packets (fixed header, remaining length, body), nothing more. */

export const PUBLISH = 3;

/** The packet type of a whole packet (MQTT 3.1.1 §2.2.1). */
export function packetType(packet: Buffer): number {
  return packet[0] >> 4;
}

/** The client id of a CONNECT packet (MQTT 3.1.1 §3.1.3.1), or "" when it cannot be read. */
export function clientIdOfConnect(packet: Buffer): string {
  try {
    let offset = 1;
    while (packet[offset] & 0x80) offset++;
    offset++;
    const nameLength = packet.readUInt16BE(offset);
    offset += 2 + nameLength + 1 + 1 + 2; // protocol name, level, flags, keepalive
    const idLength = packet.readUInt16BE(offset);
    return packet.subarray(offset + 2, offset + 2 + idLength).toString("utf8");
  } catch {
    return "";
  }
}

export class MqttFramer {
  private buffer: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns the packets they complete. */
  push(data: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? Buffer.from(data) : Buffer.concat([this.buffer, data]);
    const packets: Buffer[] = [];
    for (;;) {
      const size = this.nextSize();
      if (size === undefined || this.buffer.length < size) break;
      packets.push(this.buffer.subarray(0, size));
      this.buffer = this.buffer.subarray(size);
    }
    return packets;
  }

  /** The whole size of the packet at the start of the buffer, once its header is in. */
  private nextSize(): number | undefined {
    let remaining = 0;
    let multiplier = 1;
    for (let i = 1; i <= 4; i++) {
      if (i >= this.buffer.length) return undefined;
      const byte = this.buffer[i];
      remaining += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return 1 + i + remaining;
      multiplier *= 128;
    }
    throw new Error("malformed MQTT remaining length");
  }
}
