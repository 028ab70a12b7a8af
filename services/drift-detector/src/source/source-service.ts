import type { ConfigChanged, GitImported, GitImportFailed } from "@nexus/contracts";
import { type Logger, type Pool, processOnce, type Queryable } from "@nexus/kit";
import { planTransitions } from "../findings/finding-fns.js";
import type { FindingService } from "../findings/finding-service.js";
import type { FindingStore } from "../findings/finding-store.js";
import type { ActiveFinding, DesiredFinding } from "../findings/finding-types.js";
import type { RemediationModes } from "../remediation/remediation-store.js";
import type { GitLayerStore } from "./git-layer-store.js";
import {
  desiredForImportFailure,
  desiredForOverride,
  isGitWrite,
  layersOfFailure,
  OVERRIDE_SOURCE,
  repairedByImport,
  sourceFindingKey,
} from "./source-fns.js";

export const SOURCE_DURABLE = "drift-source";

/**
 * Source drift, from events only: an API override of a Git-bound layer or a failed import opens
 * a `source` finding for the layer; an import that writes the layer (or a later `git:` write of it)
 * resolves it. Each event is applied at most once, with its announcements, in one transaction.
 */
export function createSourceDriftService(deps: {
  pool: Pool;
  logger: Pick<Logger, "info" | "warn">;
  findings: Pick<FindingStore, "listActive">;
  findingService: FindingService;
  gitLayers: GitLayerStore;
  modes: Pick<RemediationModes, "modeOf">;
  wakeOutbox: () => void;
}) {
  const { pool, gitLayers } = deps;

  /** Open or refresh `desired`, resolve `repaired` (one transaction, the caller's). */
  async function settle(
    db: Queryable,
    desired: readonly DesiredFinding[],
    repaired: readonly ActiveFinding[],
    resolution: string,
  ) {
    const wanted: DesiredFinding[] = [];
    for (const d of desired)
      if ((await deps.modes.modeOf(db, d.namespace, d.environment)) !== "off") wanted.push(d);
    const keys = new Set(wanted.map((d) => d.key));
    const active = await deps.findings.listActive(db, ["source"]);
    const repairedIds = new Set(repaired.map((f) => f.id));
    const plan = planTransitions(
      active.filter((f) => keys.has(f.key) || repairedIds.has(f.id)),
      wanted,
      { now: Date.now(), quietMs: 0, touchEveryMs: 0 },
    );
    return deps.findingService.apply(db, plan, () => resolution, new Date());
  }

  async function once(eventId: string, effect: (db: Queryable) => Promise<{ events: number }>) {
    const done = await processOnce(pool, SOURCE_DURABLE, eventId, effect);
    if (done.applied && done.result.events > 0) deps.wakeOutbox();
  }

  return {
    async changed(eventId: string, d: ConfigChanged): Promise<void> {
      if (d.source === OVERRIDE_SOURCE) {
        await once(eventId, async (db) => {
          const known = await gitLayers.find(db, d.namespace, d.layer);
          const desired = desiredForOverride({ ...d, layer: d.layer }, known);
          return settle(db, [desired], [], "");
        });
      } else if (isGitWrite(d.source)) {
        await once(eventId, async (db) => {
          const active = await deps.findings.listActive(db, ["source"], {
            namespace: d.namespace,
            environment: d.layer,
          });
          const key = sourceFindingKey(d.namespace, d.layer);
          return settle(
            db,
            [],
            active.filter((f) => f.key === key),
            `Git wrote the layer again (${d.source}, revision ${d.revision})`,
          );
        });
      }
    },

    async imported(eventId: string, d: GitImported, at: Date): Promise<void> {
      await once(eventId, async (db) => {
        await gitLayers.record(
          db,
          d.layers.map((l) => ({
            namespace: l.namespace,
            layer: l.layer,
            sourceId: d.sourceId,
            source: d.source,
            branch: d.branch,
            commit: d.commit,
            revision: l.revision,
          })),
          at,
        );
        const active = await deps.findings.listActive(db, ["source"]);
        return settle(
          db,
          [],
          repairedByImport(active, d),
          `Git source ${d.source} imported ${d.commit.slice(0, 12)} (${d.branch}, ${d.trigger}): the layer is at the branch head`,
        );
      });
    },

    async importFailed(eventId: string, d: GitImportFailed): Promise<void> {
      await once(eventId, async (db) => {
        const sourceLayers = await gitLayers.ofSource(db, d.sourceId);
        const targets = layersOfFailure(d, sourceLayers);
        if (targets.length === 0)
          deps.logger.warn(
            { source: d.source, branch: d.branch, importId: d.importId },
            `the import from Git source ${d.source} failed, but no layer of it is known yet: no source finding`,
          );
        const desired = [];
        for (const t of targets)
          desired.push(desiredForImportFailure(d, t, await gitLayers.find(db, t.namespace, t.layer)));
        return settle(db, desired, [], "");
      });
    },
  };
}
export type SourceDriftService = ReturnType<typeof createSourceDriftService>;
