import { appendFile, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The fault suite's one table: each fault test records a row (what was broken, what held, a
 * figure); the integration project's global teardown prints them together at the end of a run.
 */
const FILE = join(dirname(fileURLToPath(import.meta.url)), "../../test-results/faults.jsonl");

export interface FaultFigure {
  fault: string;
  outcome: string;
  figure: string;
}

export async function recordFigure(row: FaultFigure): Promise<void> {
  await mkdir(dirname(FILE), { recursive: true });
  await appendFile(FILE, `${JSON.stringify(row)}\n`);
}

/** Vitest global setup: start with an empty table, print it at the end. */
export default async function setup(): Promise<() => Promise<void>> {
  await rm(FILE, { force: true });
  return async () => {
    const text = await readFile(FILE, "utf8").catch(() => "");
    const rows = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as FaultFigure);
    if (rows.length === 0) return;
    const lines = [
      "",
      "Fault suite (test/faults):",
      "| fault | what held | figure |",
      "|---|---|---|",
      ...rows.map((r) => `| ${r.fault} | ${r.outcome} | ${r.figure} |`),
      "",
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  };
}
