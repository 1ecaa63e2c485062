// A size limit on what the broker sends, enforced on the raw socket before the MQTT parser buffers
// a packet: the fixed header's remaining length is read as bytes arrive, and a packet above the
// limit ends the connection (the mqtt client's parser has no limit of its own and would buffer up
// to 256 MB). MQTT 5 sessions also announce the limit as Maximum Packet Size.

export class PacketSizeGuard {
  /** Bytes of the current packet still to skip; -1 while reading a fixed header. */
  #skip = 0;
  #header: number[] = [];

  constructor(private readonly limit: number) {}

  /** Feeds a chunk; returns the size of the first packet over the limit, or 0. */
  feed(chunk: Uint8Array): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      // Fixed header: one type byte, then a variable-length integer of up to 4 bytes.
      this.#header.push(chunk[i++]);
      if (this.#header.length < 2) continue;
      const last = this.#header[this.#header.length - 1];
      if (last & 0x80 && this.#header.length < 5) continue;
      let length = 0;
      for (let k = this.#header.length - 1; k >= 1; k--) length = length * 128 + (this.#header[k] & 0x7f);
      this.#header = [];
      if (length > this.limit) return length;
      this.#skip = length;
    }
    return 0;
  }
}
