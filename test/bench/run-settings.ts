/** The benchmark's settings, from BENCH_* variables (read here only), and its output line. */
export const SECONDS = Math.min(positive("BENCH_SECONDS", 5), 120);
export const CONNECTIONS = Math.max(1, Math.floor(positive("BENCH_CONNECTIONS", 10)));
export const WRITERS = Math.max(1, Math.floor(positive("BENCH_WRITERS", 8)));
/** Hard cap per write phase, so a fast machine still sends a bounded number of requests. */
export const MAX_WRITES = positive("BENCH_MAX_WRITES", 50_000);
/** `silent` (default, like the tests) or e.g. `info` to include the per-request log line (to /dev/null). */
export const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "silent";
export const WARMUP_SECONDS = Math.min(2, Math.max(1, SECONDS / 5));
export const WARMUP_WRITES = 200;
/**
 * Seconds of writes (at WRITERS in flight, each chain half of it) before any write is measured,
 * in `pnpm bench` and `pnpm bench:system`: what is measured is then the servers' steady state, not
 * V8 still compiling code that started a minute ago (0: only the WARMUP_WRITES of each slice group).
 */
export const WRITE_WARMUP_SECONDS = Math.min(whole("BENCH_WRITE_WARMUP_SECONDS", 20), 300);
/**
 * One part only: `read` or `write` for `pnpm bench` (the table then has only its rows), or `fanin`
 * for the fan-in and document-size curves (`fanin-phase.ts`, not part of the default run);
 * `throughput` or `curves` for `pnpm bench:system`. Each entry point checks its own values.
 */
export const ONLY = process.env.BENCH_ONLY ?? "";
export function checkOnly(allowed: string[]): void {
  if (!["", ...allowed].includes(ONLY))
    throw new Error(`BENCH_ONLY must be ${allowed.map((a) => `"${a}"`).join(" or ")}, got "${ONLY}"`);
}
/** The whole run gives up (and cleans up) after this; the fan-in curve creates hundreds of namespaces. */
export const WATCHDOG_MS = (ONLY === "fanin" ? 900 : 120 + SECONDS * 20) * 1_000;

export const READ_NAMESPACE = "bench-read";
export const READ_ENVIRONMENT = "production";

export function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

function whole(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a whole number of seconds, got "${raw}"`);
  return n;
}

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}
