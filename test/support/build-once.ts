import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Vitest global setup: `pnpm build` once per integration run (about two seconds), before any
 * test file. The tests that run the built output (test/e2e/built-services, test/deploy/runtime-tree)
 * read dist/ and must not rebuild it while another worker runs from it.
 */
export default async function buildOnce(): Promise<void> {
  await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/lib/build.ts"], { cwd: ROOT });
}
