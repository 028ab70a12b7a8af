import { randomUUID } from "node:crypto";
import type { Logger, Pool } from "@nexus/kit";
import { withAsyncCommit } from "../async-commit.js";
import type { DeliveryStore } from "../delivery/delivery-store.js";
import type { MessageAlert } from "../receivers/message-types.js";
import type { RoutingService } from "../routing/routing-service.js";
import type { SilenceStore } from "../silences/silence-store.js";
import type { AlertRow, AlertStore } from "./alert-store.js";
import type { GroupStore } from "./group-store.js";
import { type AlertState, inhibitedBy, type Member, planFlush, silencedBy } from "./grouping-fns.js";
import { deliveriesFor } from "./notification-fns.js";

export interface FlusherDeps {
  pool: Pool;
  logger: Logger;
  alerts: Pick<AlertStore, "firingLabels" | "addHistory">;
  groups: GroupStore;
  silences: Pick<SilenceStore, "current" | "now">;
  deliveries: Pick<DeliveryStore, "insert">;
  routing: Pick<RoutingService, "current">;
  maxAttempts: number;
  wakeSender: () => void;
}

const toMessageAlert = (r: AlertRow): MessageAlert => ({
  fingerprint: r.fingerprint,
  status: r.status,
  eventType: r.event_type,
  severity: r.severity,
  summary: r.summary,
  details: r.details,
  labels: r.labels,
  links: r.links,
  source: r.source,
  actionTaken: r.action_taken,
  startsAt: r.starts_at.toISOString(),
  endsAt: r.ends_at?.toISOString() ?? null,
});

/** The trace of the alert among `fingerprints` received last: what a delivery's spans join. */
function latestTrace(fingerprints: readonly string[], byFp: ReadonlyMap<string, AlertRow>): string | null {
  let latest: AlertRow | undefined;
  for (const fp of fingerprints) {
    const a = byFp.get(fp);
    if (a?.trace_parent && (!latest || a.last_received_at > latest.last_received_at)) latest = a;
  }
  return latest?.trace_parent ?? null;
}

/**
 * Looks at groups whose time came (one per transaction, claimed with SKIP LOCKED so instances
 * share the work) and turns what they have to say into delivery rows.
 */
export function createGroupFlusher(deps: FlusherDeps) {
  const { pool, groups } = deps;

  async function flushOne(): Promise<boolean> {
    // Read before the transaction: never ask the pool for a second connection while holding one.
    const routing = await deps.routing.current();
    const created = await withAsyncCommit(pool, async (c) => {
      const g = await groups.claimDue(c);
      if (!g) return null;
      const receiver = routing?.config.receivers.find((r) => r.name === g.receiver);
      const members = await groups.members(c, g.group_key);
      const rows = (
        await c.query<AlertRow>("SELECT * FROM alerts WHERE fingerprint = ANY($1)", [
          members.map((m) => m.fingerprint),
        ])
      ).rows;
      const byFp = new Map(rows.map((r) => [r.fingerprint, r]));
      if (!receiver) {
        deps.logger.warn(
          { receiver: g.receiver },
          "a group's receiver no longer exists; its alerts are not sent",
        );
        await groups.afterFlush(c, g.group_key, {
          notified: false,
          state: g.last_notified_state,
          nextFlushAt: null,
          firing: [],
          drop: [],
          muted: [],
        });
        return 0;
      }
      // The database's clock, as the silences' own queries use: not this process's, which may be off.
      const now = await deps.silences.now(c);
      const silences = await deps.silences.current(c);
      const rules = routing?.config.inhibitRules ?? [];
      const firing: AlertState[] = rules.length
        ? (await deps.alerts.firingLabels(c)).map((a) => ({ ...a, status: "firing" as const }))
        : [];
      const mutedNow: { fp: string; why: Record<string, unknown> }[] = [];
      const planned: Member[] = members.flatMap((m) => {
        const a = byFp.get(m.fingerprint);
        if (!a) return [];
        let why: Record<string, unknown> | null = null;
        if (a.status !== "resolved") {
          const silence = silencedBy(a.labels, silences, now);
          const inhibition = silence
            ? null
            : inhibitedBy({ fingerprint: a.fingerprint, status: a.status, labels: a.labels }, firing, rules);
          if (silence) why = { silence };
          else if (inhibition) why = { inhibitedBy: inhibition.source, rule: inhibition.rule };
        }
        if (why && m.notified_status === null) mutedNow.push({ fp: a.fingerprint, why });
        // 'muted' members were never told they fire: for the plan they are untold.
        const notifiedStatus = m.notified_status === "muted" ? null : m.notified_status;
        return [{ fingerprint: a.fingerprint, status: a.status, notifiedStatus, muted: why !== null }];
      });
      const plan = planFlush({
        members: planned,
        lastNotifiedAt: g.last_notified_at,
        lastState: g.last_notified_state,
        groupIntervalMs: g.group_interval_ms,
        repeatIntervalMs: g.repeat_interval_ms,
        sendResolved: receiver.sendResolved,
        now,
      });
      let ids: string[] = [];
      if (plan.notify) {
        const messages = new Map(rows.map((r) => [r.fingerprint, toMessageAlert(r)]));
        const list = deliveriesFor(
          receiver,
          { key: g.group_key, labels: g.group_labels },
          plan,
          messages,
          randomUUID(),
        ).map((d) => ({ ...d, traceParent: latestTrace(d.fingerprints, byFp) }));
        ids = await deps.deliveries.insert(c, list, deps.maxAttempts);
        await deps.alerts.addHistory(
          c,
          list.flatMap((d, i) =>
            d.fingerprints.map((fingerprint) => ({
              fingerprint,
              kind: "notification queued",
              actor: null,
              detail: {
                receiver: d.receiver,
                receiverType: d.receiverType,
                action: d.action,
                deliveryId: ids[i],
              },
            })),
          ),
        );
      }
      await deps.alerts.addHistory(
        c,
        mutedNow.map((m) => ({
          fingerprint: m.fp,
          kind: "muted",
          actor: null,
          detail: { receiver: receiver.name, ...m.why },
        })),
      );
      await groups.afterFlush(c, g.group_key, {
        notified: plan.notify,
        state: plan.state,
        nextFlushAt: plan.nextFlushAt,
        firing: plan.firing,
        drop: plan.drop,
        muted: mutedNow.map((m) => m.fp),
      });
      return ids.length;
    });
    if (created) deps.wakeSender();
    return created !== null;
  }

  return {
    /** Flush every due group; resolves to how many groups were looked at. */
    async runOnce(): Promise<number> {
      let n = 0;
      while (n < 100 && (await flushOne())) n++;
      return n;
    },
    nextDueAt: () => groups.nextDueAt(pool),
  };
}
