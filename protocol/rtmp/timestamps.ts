// RTMP's 32-bit millisecond timestamps made into a 64-bit clock that does not wrap: a publisher
// live for more than 49.7 days (or one whose clock starts near 2^32, as some encoders' does)
// crosses 0xffffffff -> 0, and each step is read as the shortest signed distance from the last
// timestamp, so the clock goes on from 2^32. Steps back (audio a little behind video) stay
// steps back. Pure; one per publish (its media share one clock).

export class TimestampClock {
  private last32: number | null = null;
  private last64 = 0;

  /** The 64-bit time (ms, exact up to 2^53) of a 32-bit RTMP timestamp. */
  time(ts32: number): number {
    const t = ts32 >>> 0;
    if (this.last32 === null) {
      this.last32 = t;
      this.last64 = t;
      return t;
    }
    this.last64 += (t - this.last32) | 0; // the signed 32-bit distance
    this.last32 = t;
    return this.last64;
  }
}
