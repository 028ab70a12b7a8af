import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LOG_FLUSH_MS } from "../../src/logger.js";

const CHILD = fileURLToPath(new URL("./fixtures/log-lines.ts", import.meta.url));

/** Runs the child; resolves with its stdout lines, what it reported, and when each line arrived. */
function run(lines: number, then: "exit" | "wait", killAfterFirstLine = false) {
  return new Promise<{ lines: string[]; syscalls: number; firstLineMs: number }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, String(lines), then], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let reportedAt = 0;
    let firstLineMs = -1;
    child.stdout.on("data", (d) => {
      out += d;
      if (firstLineMs < 0 && reportedAt) firstLineMs = Date.now() - reportedAt;
      if (killAfterFirstLine) child.kill("SIGKILL");
    });
    child.stderr.on("data", (d) => {
      err += d;
      if (!reportedAt && err.includes("syscalls")) reportedAt = Date.now();
    });
    child.on("error", reject);
    child.on("close", () => {
      const report = err.split("\n").find((l) => l.startsWith("{"));
      if (!report) return reject(new Error(`child failed: ${err}`));
      resolve({
        lines: out.split("\n").filter(Boolean),
        syscalls: (JSON.parse(report) as { syscalls: number }).syscalls,
        firstLineMs,
      });
    });
  });
}

describe.skipIf(process.platform !== "linux")("a service's log lines on stdout", () => {
  it("are written a buffer at a time, not a write (and a thread-pool wake-up) per line, and all are there at exit", async () => {
    const { lines, syscalls } = await run(300, "exit");
    // pino's default stream: a write and an eventfd write per line (~600 here).
    expect(syscalls).toBeLessThan(150);
    expect(lines).toHaveLength(300);
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([...Array(300).keys()]);
  }, 30_000);

  it("reach stdout within the flush interval when nothing else is logged", async () => {
    const { lines, firstLineMs } = await run(1, "wait", true);
    expect(lines).toHaveLength(1);
    // Measured from the child's report (logged after the line), so an upper bound with slack.
    expect(firstLineMs).toBeGreaterThanOrEqual(0);
    expect(firstLineMs).toBeLessThan(LOG_FLUSH_MS + 500);
  }, 30_000);
});
