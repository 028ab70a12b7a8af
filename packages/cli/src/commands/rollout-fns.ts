/** Pure helpers of `nexus rollout`: wave rollouts in words. */
import type { RolloutDetailDto, RolloutSummaryDto, RolloutWaveDto } from "@nexus/contracts";

/** `10%` (a share of instances) or `zone=a` (instances with these labels). */
export function selectorWords(selector: RolloutWaveDto["selector"]): string {
  return "percent" in selector
    ? `${selector.percent}%`
    : Object.entries(selector.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
}

/** `wave 2 of 3` while active, or how it ended. */
export function progressWords(r: RolloutSummaryDto): string {
  if (r.status === "completed") return `completed (${r.waveCount} wave(s))`;
  if (r.status === "aborted") return `aborted after wave ${r.releasedWaves} of ${r.waveCount}`;
  return r.releasedWaves === 0
    ? `planned, ${r.waveCount} wave(s)`
    : `wave ${r.releasedWaves} of ${r.waveCount}`;
}

export const revisionWords = (r: RolloutSummaryDto) =>
  `${r.holdRevision} → ${r.targetRevision ?? "(not written yet)"}`;

/** The headline and one line per wave, the current one marked. */
export function rolloutLines(r: RolloutDetailDto): string[] {
  return [
    `rollout ${r.id} of ${r.pipeline}: ${r.namespace} ${r.environment}, revision ${revisionWords(r)}, ${progressWords(r)}`,
    ...r.waves.map(
      (w) =>
        `  ${w.current ? "▶" : w.released ? "✓" : "·"} wave ${w.wave}: ${selectorWords(w.selector)}${w.current ? " (current)" : w.released ? " (released)" : ""}`,
    ),
  ];
}
