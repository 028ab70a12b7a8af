/** Nearest-rank percentiles (p50, p99) and the maximum of samples, in one or more parts; NaN for none. */
export function summarize(parts: readonly Float64Array[]): {
  n: number;
  p50: number;
  p99: number;
  max: number;
} {
  const n = parts.reduce((a, p) => a + p.length, 0);
  if (n === 0) return { n: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = new Float64Array(n);
  let at = 0;
  for (const p of parts) {
    sorted.set(p, at);
    at += p.length;
  }
  sorted.sort();
  const rank = (q: number) => sorted[Math.min(n, Math.max(1, Math.ceil(q * n))) - 1]!;
  return { n, p50: rank(0.5), p99: rank(0.99), max: sorted[n - 1]! };
}

/** CPU time (user + system) used since `start`, as a share of one core over `wallMs`. */
export function cpuShare(start: NodeJS.CpuUsage, wallMs: number): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1_000 / wallMs;
}
