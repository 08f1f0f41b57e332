// RTP timestamps of a received track on a clock in nanoseconds, pure: 32-bit timestamps
// unwrapped across their wrap-around, measured from the track's first packet, and placed on a
// session time line by when that first packet arrived (so a publisher's audio and video start
// together within the arrival jitter).

export class RtpClock {
  private first: number | null = null;
  private last = 0;
  private cycles = 0;
  private startNs = 0n;

  constructor(private readonly clockRate: number) {}

  /** Nanoseconds on the session's time line for an RTP timestamp; `sinceStartMs`: the arrival offset of the first packet. */
  toNs(timestamp: number, sinceStartMs: number): bigint {
    if (this.first === null) {
      this.first = timestamp;
      this.last = timestamp;
      this.startNs = BigInt(Math.max(0, Math.round(sinceStartMs))) * 1000000n;
    }
    // A jump of more than half the range backwards is a wrap forwards, and the other way round.
    const d = timestamp - this.last;
    if (d < -0x80000000) this.cycles++;
    else if (d > 0x80000000) this.cycles--;
    this.last = timestamp;
    const ticks = this.cycles * 0x100000000 + timestamp - this.first;
    return this.startNs + (BigInt(ticks) * 1000000000n) / BigInt(this.clockRate);
  }
}
