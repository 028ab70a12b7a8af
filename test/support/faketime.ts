import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** libfaketime from Debian's `faketime` package (scripts/ensure-test-tools.sh installs it). */
const LIBRARY = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
].find((p) => existsSync(p));

export const hasFaketime = (): boolean => LIBRARY !== undefined;

export interface SkewedClock {
  /** The environment that puts a process on this clock (LD_PRELOAD of libfaketime). */
  env: Record<string, string>;
  /** Step the process's wall clock to `seconds` from the real time (negative: behind), now. */
  set(seconds: number): Promise<void>;
  remove(): Promise<void>;
}

/**
 * A wall clock a test moves while the process runs: libfaketime re-reads the offset from a file
 * on every call (FAKETIME_NO_CACHE). Only the wall clock moves (CLOCK_REALTIME: what NTP steps
 * and `Date.now()` reads); the monotonic clock timers run on is left alone, as on a real host.
 */
export async function skewedClock(seconds: number): Promise<SkewedClock> {
  if (!LIBRARY) throw new Error("libfaketime is not installed (bash scripts/ensure-test-tools.sh)");
  const dir = await mkdtemp(join(tmpdir(), "nexus-faketime-"));
  const file = join(dir, "offset");
  const set = (s: number) => writeFile(file, `${s >= 0 ? "+" : ""}${s}s\n`);
  await set(seconds);
  return {
    env: {
      LD_PRELOAD: LIBRARY,
      FAKETIME_TIMESTAMP_FILE: file,
      FAKETIME_NO_CACHE: "1",
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
    },
    set,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
