/** Which deliveries one group notification makes, per receiver type. No I/O. */
import type { NewDelivery } from "../delivery/delivery-types.js";
import type { MessageAlert } from "../receivers/message-types.js";
import type { Receiver } from "../routing/routing-types.js";
import type { FlushPlan } from "./grouping-fns.js";

export interface GroupInfo {
  key: string;
  labels: Record<string, string>;
}

/**
 * PagerDuty gets one event per alert (dedup_key = fingerprint: trigger while firing, resolve when
 * resolved) and no notices; every other receiver gets one message for the whole group.
 */
export function deliveriesFor(
  receiver: Receiver,
  group: GroupInfo,
  plan: Pick<FlushPlan, "firing" | "resolved" | "notices">,
  alerts: ReadonlyMap<string, MessageAlert>,
  notificationId: string,
): NewDelivery[] {
  const pick = (fps: readonly string[]) =>
    fps.map((f) => alerts.get(f)).filter((a): a is MessageAlert => a !== undefined);
  const firing = pick(plan.firing);
  const resolved = pick(plan.resolved);
  const notices = pick(plan.notices);
  const message = (list: MessageAlert[]) => ({
    receiver: receiver.name,
    groupKey: group.key,
    groupLabels: group.labels,
    alerts: list,
  });
  if (receiver.type === "pagerduty") {
    return [
      ...firing.map((a) => ({ a, action: "trigger" as const })),
      ...resolved.map((a) => ({ a, action: "resolve" as const })),
    ].map(({ a, action }) => ({
      receiver: receiver.name,
      receiverType: receiver.type,
      groupKey: group.key,
      action,
      dedupKey: a.fingerprint,
      fingerprints: [a.fingerprint],
      message: message([a]),
    }));
  }
  const all = [...firing, ...resolved, ...notices];
  if (all.length === 0) return [];
  return [
    {
      receiver: receiver.name,
      receiverType: receiver.type,
      groupKey: group.key,
      action: "notify",
      dedupKey: notificationId,
      fingerprints: all.map((a) => a.fingerprint),
      message: message(all),
    },
  ];
}
