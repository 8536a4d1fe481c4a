/** Answer times of the sweep, reported (not asserted: see HANG_BOUND_MS in sweep.ts). */
export class Timings {
  private readonly ms: number[] = [];
  private slowest: { ms: number; what: string } = { ms: 0, what: '' };

  add(ms: number, what: string): void {
    this.ms.push(ms);
    if (ms > this.slowest.ms) this.slowest = { ms, what };
  }

  summary(): string {
    if (!this.ms.length) return 'no requests';
    const sorted = [...this.ms].sort((a, b) => a - b);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
    const over = sorted.filter((m) => m > 2000).length;
    return `answer times: median ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${this.slowest.ms.toFixed(0)} ms (${this.slowest.what}); ${over} over 2 s`;
  }
}
