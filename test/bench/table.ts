/** The benchmark tables: markdown, first column left-aligned, the others right-aligned. */
import { fmt, type Row } from "./run-resources.js";
import { log } from "./run-settings.js";

export function printGrid(header: string[], lines: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const row = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  log("");
  log(row(header));
  log(`|${widths.map((w, i) => (i === 0 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const l of lines) log(row(l));
  log("");
}

export function printTable(rows: Row[]): void {
  const header = ["metric", "nexus", "baseline", "ratio", "target", "met?"];
  const lines = rows.map((r) => {
    const unit = r.unit === "ms" ? " ms" : r.unit;
    return [
      r.metric,
      `${fmt(r.nexus, r.unit)}${unit}`,
      `${fmt(r.baseline, r.unit)}${unit}`,
      `${(r.nexus / r.baseline).toFixed(2)}×`,
      r.target?.text ?? "-",
      r.target ? (r.target.met ? "yes" : "no") : "-",
    ];
  });
  printGrid(header, lines);
  log(
    "ratio = nexus / baseline: for req/s and writes/s higher is better (1.00× = as fast as the bare stack);" +
      " for latencies lower is better (2.00× = twice as slow).",
  );
}
