import { PassThrough } from "node:stream";
import { run } from "../../src/main.js";
import type { Io } from "../../src/output/output.js";

/**
 * `nexus <args>` run in this process with only these environment variables (no config file, no
 * home): what it printed on stdout and stderr, and its exit code.
 */
export async function runNexus(
  env: Record<string, string>,
  args: readonly string[],
): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d) => {
    out += d;
  });
  stderr.on("data", (d) => {
    err += d;
  });
  const io = {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env: { NEXUS_CONFIG: "/nonexistent/nexus.json", ...env },
    cwd: process.cwd(),
    home: "/nonexistent",
  } as unknown as Io;
  const code = await run(["node", "nexus", ...args], io);
  return { code, out, err };
}
