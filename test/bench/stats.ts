/** Nearest-rank percentile of unsorted samples; `q` in (0, 1]. NaN for no samples. */
export function percentile(samples: readonly number[] | Float64Array, q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(samples: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  if (samples.length === 0) return { n: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** CPU time (user + system) used since `start`, as a share of one core over `wallMs`. */
export function cpuShare(start: NodeJS.CpuUsage, wallMs: number): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1_000 / wallMs;
}
