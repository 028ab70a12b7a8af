/**
 * Writes (or with --check, verifies) packages/contracts/asyncapi.json from the zod contract, so
 * the published document can never drift from the code.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildAsyncApi } from "../src/asyncapi.js";

const target = fileURLToPath(new URL("../asyncapi.json", import.meta.url));
const generated = `${JSON.stringify(buildAsyncApi(), null, 2)}\n`;

if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    // missing counts as stale
  }
  if (current !== generated) {
    process.stderr.write(
      "packages/contracts/asyncapi.json is out of date: run `pnpm asyncapi` and commit it.\n",
    );
    process.exit(1);
  }
  process.stdout.write("asyncapi.json matches the contract.\n");
} else {
  writeFileSync(target, generated);
  process.stdout.write(`Wrote ${target}\n`);
}
