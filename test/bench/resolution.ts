/**
 * A write's resolution of a large base layer under a small overlay, in this process: what `plan`
 * does with the documents (merge, resolve, canonical JSON, hash, changed paths, freeze), beside
 * the least any write of that document does (`JSON.stringify` + sha256 of the whole of it), as a
 * ratio. `pnpm exec tsx test/bench/resolution.ts` (BENCH_RESOLUTION_KIB=3,100,1000).
 */
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  canonicalJson,
  changedPaths,
  deepFreeze,
  deepMergeShared,
  hashOfCanonical,
} from "../../services/config-registry/src/documents/document-fns.js";
import { resolveDocument } from "../../services/config-registry/src/resolve/resolve-fns.js";
import { log } from "./run-settings.js";
import { printGrid } from "./table.js";

const SIZES = (process.env.BENCH_RESOLUTION_KIB ?? "3,100,1000").split(",").map(Number);
const SECONDS = 1.5;

/** ~`kib` KiB of base layer: entries of ~100 bytes and two variables, frozen as a held layer is. */
function baseOf(kib: number): Record<string, unknown> {
  const base: Record<string, unknown> = { service: { owner: "${env:TEAM}", region: "${env:REGION}" } };
  for (let i = 0; i < kib * 10; i++) base[`k${i}`] = { a: "x".repeat(60), b: i, c: [true, null] };
  return deepFreeze(base);
}

/** Mean ms per call of `fn(n)` over SECONDS (after a second of warm-up). */
function timed(fn: (n: number) => void): number {
  for (let n = 0, t = performance.now(); performance.now() - t < 1_000; n++) fn(n);
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < SECONDS * 1_000) fn(n++);
  return (performance.now() - start) / n;
}

const rows: string[][] = [];
for (const kib of SIZES) {
  const base = baseOf(kib);
  let previous: unknown = {};
  const nexus = timed((n) => {
    const merged = deepMergeShared(base, { deployment: { seq: n } });
    const { value } = resolveDocument({
      namespace: "bench",
      document: merged,
      variables: { TEAM: "payments", REGION: "eu-west-1" },
      loadNamespace: () => undefined,
    });
    hashOfCanonical(canonicalJson(value));
    changedPaths(previous, value);
    previous = deepFreeze(value);
  });
  const bare = timed((n) => {
    createHash("sha256")
      .update(JSON.stringify({ ...base, deployment: { seq: n } }))
      .digest("hex");
  });
  rows.push([`${kib} KiB`, nexus.toFixed(3), bare.toFixed(3), `${(nexus / bare).toFixed(2)}×`]);
}
log(
  "A write of a small overlay over a large base layer: its resolution, beside stringify + sha256 of the document",
);
printGrid(["base layer", "resolution, ms", "stringify + sha256, ms", "ratio"], rows);
