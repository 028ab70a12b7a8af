import { randomUUID } from "node:crypto";
import {
  isTransactionConflict,
  NotFoundError,
  type Pool,
  type PoolClient,
  withTransaction,
} from "@nexus/kit";
import { type DeliveryStore, toDeliveryDto } from "../delivery/delivery-store.js";
import { groupKey, groupLabels, matchRoutes } from "../routing/routing-fns.js";
import type { RoutingService } from "../routing/routing-service.js";
import type { RoutingVersion } from "../routing/routing-store.js";
import type { AlertStore, Change } from "./alert-store.js";
import { toAlertDto } from "./alert-store.js";
import type { AlertInput } from "./alert-types.js";
import type { GroupStore } from "./group-store.js";

export interface AlertServiceDeps {
  pool: Pool;
  alerts: AlertStore;
  groups: GroupStore;
  deliveries: Pick<DeliveryStore, "pagerDutyTriggered" | "insert" | "list">;
  routing: Pick<RoutingService, "current">;
  maxAttempts: number;
  /** After a commit that made groups due (the flusher) or deliveries (the sender). */
  wakeFlusher: () => void;
  wakeSender: () => void;
}

const HISTORY_KIND: Partial<Record<Change, string>> = {
  new: "raised",
  refired: "raised again",
  updated: "updated",
  resolved: "resolved",
  notice: "notice",
};

export function createAlertService(deps: AlertServiceDeps) {
  const { pool, alerts, groups } = deps;

  /**
   * Store alerts and put the changed ones into their groups, in the caller's transaction. The
   * routing config is read before the transaction (`routingNow`): reading it inside would take a
   * second pool connection while holding one, and concurrent handlers could starve the pool.
   */
  async function ingestIn(
    client: PoolClient,
    inputs: readonly AlertInput[],
    routing: RoutingVersion | null,
  ): Promise<number> {
    let changed = 0;
    // One order for every writer, so concurrent batches lock groups in the same order.
    for (const input of [...inputs].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint))) {
      const change = await alerts.upsert(client, input);
      const kind = HISTORY_KIND[change];
      if (!kind) continue;
      changed++;
      const matches = routing
        ? matchRoutes(routing.config.route, input.labels, { subscribedOnly: input.status === "notice" })
        : [];
      for (const m of matches) {
        const labels = groupLabels(m.groupBy, input.labels);
        await groups.touch(client, groupKey(m, labels), m, labels, input.fingerprint);
      }
      await alerts.addHistory(client, [
        {
          fingerprint: input.fingerprint,
          kind,
          actor: input.source,
          detail: {
            severity: input.severity,
            summary: input.summary,
            routedTo: [...new Set(matches.map((m) => m.receiver))],
          },
        },
      ]);
    }
    return changed;
  }

  return {
    ingestIn,
    routingNow: () => deps.routing.current(),
    /** Store alerts in their own transaction (retried on a deadlock between concurrent batches). */
    async ingest(inputs: readonly AlertInput[]): Promise<number> {
      for (let attempt = 1; ; attempt++) {
        try {
          const routing = await deps.routing.current();
          const changed = await withTransaction(pool, (c) => ingestIn(c, inputs, routing));
          if (changed > 0) deps.wakeFlusher();
          return changed;
        } catch (err) {
          if (attempt >= 3 || !isTransactionConflict(err)) throw err;
        }
      }
    },

    async list(f: {
      status?: string | undefined;
      severity?: string | undefined;
      limit: number;
      before?: string | undefined;
    }) {
      return (await alerts.list(pool, f)).map(toAlertDto);
    },

    /** The alert, what happened to it, and every delivery about it. */
    async get(fingerprint: string) {
      const row = await alerts.find(pool, fingerprint);
      if (!row)
        throw new NotFoundError("alert_not_found", `no alert with fingerprint ${fingerprint}`, {
          field: "fingerprint",
        });
      const [history, deliveries] = await Promise.all([
        alerts.history(pool, fingerprint),
        deps.deliveries.list(pool, { fingerprint, limit: 200 }),
      ]);
      return { alert: toAlertDto(row), history, deliveries: deliveries.map(toDeliveryDto) };
    },

    /** Record who acknowledged; PagerDuty receivers that had the incident get `acknowledge`. */
    async ack(fingerprint: string, by: string, comment: string) {
      const result = await withTransaction(pool, async (c) => {
        const row = await alerts.ack(c, fingerprint, by, comment);
        if (!row)
          throw new NotFoundError("alert_not_found", `no alert with fingerprint ${fingerprint}`, {
            field: "fingerprint",
          });
        const paged = row.status === "firing" ? await deps.deliveries.pagerDutyTriggered(c, fingerprint) : [];
        const ids = await deps.deliveries.insert(
          c,
          paged.map((p) => ({
            receiver: p.receiver,
            receiverType: "pagerduty",
            groupKey: p.message.groupKey,
            action: "acknowledge",
            dedupKey: fingerprint,
            fingerprints: [fingerprint],
            message: { ...p.message, ackedBy: by },
          })),
          deps.maxAttempts,
        );
        await alerts.addHistory(c, [
          {
            fingerprint,
            kind: "acknowledged",
            actor: by,
            detail: { comment, pagerDuty: paged.map((p) => p.receiver), ackId: randomUUID() },
          },
        ]);
        return { alert: toAlertDto(row), acknowledgeDeliveries: ids };
      });
      if (result.acknowledgeDeliveries.length) deps.wakeSender();
      return result;
    },
  };
}
export type AlertService = ReturnType<typeof createAlertService>;
