import { readFileSync, writeFileSync } from "node:fs";

/**
 * Write a generated document, or with `--check` in argv verify the committed one equals what the
 * code generates now (so API documents can never drift from the code). Exits 1 when stale.
 */
export function writeOrCheckGenerated(
  target: string,
  generated: string,
  label: string,
  regenerate: string,
): void {
  if (!process.argv.includes("--check")) {
    writeFileSync(target, generated);
    process.stdout.write(`Wrote ${target}\n`);
    return;
  }
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    // missing counts as stale
  }
  if (current !== generated) {
    process.stderr.write(`${label} is out of date: run \`${regenerate}\` and commit it.\n`);
    process.exit(1);
  }
  process.stdout.write(`${label} matches the code.\n`);
}
