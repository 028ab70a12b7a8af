import { GIT_PUSHED } from "@nexus/contracts";
import { type Bus, type Consumption, createLease, type Logger, type Pool } from "@nexus/kit";
import { Cron } from "croner";
import type { GitClient } from "./git-client.js";
import { GIT_IMPORT_CONSUMER, type GitImportService } from "./git-import-service.js";
import { branchesOf, branchOfRef } from "./git-source-fns.js";
import type { GitSourceService } from "./git-source-service.js";
import type { GitSourceStore } from "./git-source-store.js";

/** Imports from `git.pushed`: one durable consumer, in order, each event applied at most once. */
export function consumeGitPushes(deps: {
  bus: Pick<Bus, "consume">;
  pool: Pool;
  store: Pick<GitSourceStore, "findById">;
  imports: Pick<GitImportService, "run">;
}): Promise<Consumption> {
  return deps.bus.consume(
    GIT_PUSHED,
    // A fetch of a large repository may take a while; the kit keeps long handlers alive.
    { durable: GIT_IMPORT_CONSUMER, ackWaitMs: 120_000, deliverPolicy: "new" },
    async (event) => {
      const d = event.data;
      const source = await deps.store.findById(deps.pool, d.sourceId);
      const branch = branchOfRef(d.ref);
      if (!source || !branch || !branchesOf(source).includes(branch)) return;
      await deps.imports.run({
        source,
        branch,
        what: d.after,
        changedFiles: d.changedFiles,
        before: d.before,
        trigger: "webhook",
        deliveryId: d.deliveryId,
        eventId: event.id,
      });
    },
  );
}

/**
 * The reconcile: on a schedule, compare every followed branch's head (`git ls-remote`) with the
 * commit last imported, and import what a lost webhook missed. One instance runs it, holding a
 * Postgres advisory lease; a standby takes over when it dies.
 */
export function createGitReconciler(deps: {
  pool: Pool;
  databaseUrl: string;
  schema: string;
  schedule: string;
  git: Pick<GitClient, "lsRemote">;
  store: Pick<GitSourceStore, "list" | "branchHeads">;
  sources: Pick<GitSourceService, "authOf">;
  imports: Pick<GitImportService, "run">;
  logger: Pick<Logger, "info" | "warn" | "debug" | "error">;
}) {
  let cron: Cron | undefined;
  let running: Promise<number> | undefined;

  async function pass(): Promise<number> {
    let imported = 0;
    for (const source of await deps.store.list(deps.pool)) {
      try {
        const branches = branchesOf(source);
        const remote = await deps.git.lsRemote(
          source.id,
          source.url,
          await deps.sources.authOf(deps.pool, source),
          branches,
        );
        const local = await deps.store.branchHeads(deps.pool, source.id);
        for (const branch of branches) {
          const head = remote.get(branch);
          if (!head || local.get(branch) === head) continue;
          const outcome = await deps.imports.run({
            source,
            branch,
            what: head,
            changedFiles: null,
            trigger: "reconcile",
          });
          if (outcome.status !== "skipped") imported++;
        }
      } catch (err) {
        deps.logger.warn(
          { source: source.name, err: (err as Error).message },
          "reconcile of a Git source failed; the next pass retries",
        );
      }
    }
    return imported;
  }

  const runPass = () => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  const lease = createLease({
    databaseUrl: deps.databaseUrl,
    name: `git-reconcile:${deps.schema}`,
    channel: `${deps.schema}_git_reconcile`,
    retryMs: 5_000,
    logger: deps.logger,
    onAcquired() {
      cron = new Cron(deps.schedule, { protect: true, unref: true }, async () => {
        await runPass().catch((err) => deps.logger.warn({ err }, "git reconcile pass failed"));
      });
    },
    onLost() {
      cron?.stop();
      cron = undefined;
    },
    onNotify() {},
  });

  return {
    start: () => lease.start(),
    async stop() {
      cron?.stop();
      await running?.catch(() => undefined);
      await lease.stop();
    },
    /** One pass now, whoever holds the lease (tests, and a manual trigger); returns commits imported. */
    runOnce: runPass,
  };
}
export type GitReconciler = ReturnType<typeof createGitReconciler>;
