// Restart intensity as OTP counts it: one sliding window of restart times per supervisor, over
// all of its children. Pure bookkeeping (times are given), so it is tested without timers.

export class RestartWindow {
  private times: number[] = [];

  constructor(
    readonly intensity: number,
    readonly periodMs: number,
  ) {}

  /**
   * Records a restart at `now`; false when it would be one too many within the period (the
   * supervisor gives up then, and nothing is recorded).
   */
  allow(now: number): boolean {
    this.times = this.times.filter((t) => now - t < this.periodMs);
    if (this.times.length >= this.intensity) return false;
    this.times.push(now);
    return true;
  }

  /** Restarts within the period before `now`. */
  recent(now: number): number {
    return this.times.filter((t) => now - t < this.periodMs).length;
  }

  clear(): void {
    this.times = [];
  }
}
