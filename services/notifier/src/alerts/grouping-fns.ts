/** Inhibition, silences and when a group tells its receiver something. No I/O. */
import { type Labels, matchesAll } from "../routing/routing-fns.js";
import type { InhibitRule } from "../routing/routing-types.js";
import type { SilenceView } from "../silences/silence-types.js";

export interface AlertState {
  fingerprint: string;
  status: "firing" | "resolved" | "notice";
  labels: Labels;
}

/** The rule and source alert that mute this one, or null. An alert never inhibits itself. */
export function inhibitedBy(
  target: AlertState,
  firing: readonly AlertState[],
  rules: readonly InhibitRule[],
): { rule: number; source: string } | null {
  for (const [i, rule] of rules.entries()) {
    if (!matchesAll(rule.targetMatchers, target.labels)) continue;
    for (const source of firing) {
      if (source.fingerprint === target.fingerprint || source.status !== "firing") continue;
      if (!matchesAll(rule.sourceMatchers, source.labels)) continue;
      // A source that also matches the target side (e.g. two criticals) must not mute the other.
      if (matchesAll(rule.targetMatchers, source.labels)) continue;
      if (rule.equal.every((l) => (source.labels[l] ?? "") === (target.labels[l] ?? ""))) {
        return { rule: i, source: source.fingerprint };
      }
    }
  }
  return null;
}

export const isSilenceActive = (s: SilenceView, now: Date): boolean =>
  s.startsAt.getTime() <= now.getTime() && now.getTime() < s.endsAt.getTime();

/** The id of an active silence covering these labels, or null. */
export function silencedBy(labels: Labels, silences: readonly SilenceView[], now: Date): string | null {
  for (const s of silences) if (isSilenceActive(s, now) && matchesAll(s.matchers, labels)) return s.id;
  return null;
}

export interface Member {
  fingerprint: string;
  status: "firing" | "resolved" | "notice";
  /** The status this group last told its receiver (null: never told). */
  notifiedStatus: string | null;
  muted: boolean;
}

export interface FlushInput {
  members: readonly Member[];
  lastNotifiedAt: Date | null;
  lastState: string;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  sendResolved: boolean;
  now: Date;
}

export interface FlushPlan {
  /** Send a notification now. */
  notify: boolean;
  /** Alerts in the message (firing, plus resolved ones the receiver knew as firing). */
  firing: string[];
  resolved: string[];
  notices: string[];
  /** Fingerprint-and-status summary the group is now in; equal states are not sent twice. */
  state: string;
  /** When to look at the group next; null when it has nothing left to say. */
  nextFlushAt: Date | null;
  /** Members to drop afterwards: resolved ones that were told (or never needed telling), sent notices. */
  drop: string[];
}

/**
 * Alertmanager's rule: a group notifies when what it would say differs from what it last said
 * (a new firing alert, one resolved) or, unchanged but still firing, when the repeat interval has
 * passed. Muted alerts are left out. Resolved alerts go out only to receivers that want them, and
 * only if the receiver had heard of them firing.
 */
export function planFlush(input: FlushInput): FlushPlan {
  const live = input.members.filter((m) => !m.muted);
  const firing = live
    .filter((m) => m.status === "firing")
    .map((m) => m.fingerprint)
    .sort();
  const notices = live
    .filter((m) => m.status === "notice" && m.notifiedStatus === null)
    .map((m) => m.fingerprint);
  const resolvedKnown = live
    .filter((m) => m.status === "resolved" && m.notifiedStatus === "firing")
    .map((m) => m.fingerprint)
    .sort();
  const resolved = input.sendResolved ? resolvedKnown : [];
  const state = `${firing.join(",")}|${resolved.join(",")}`;
  const changed = (firing.length > 0 || resolved.length > 0) && state !== input.lastState;
  const repeatDue =
    firing.length > 0 &&
    input.lastNotifiedAt !== null &&
    input.now.getTime() - input.lastNotifiedAt.getTime() >= input.repeatIntervalMs;
  const notify = changed || repeatDue || notices.length > 0;
  const drop = [
    ...input.members
      .filter((m) => m.status === "resolved" && (notify || m.notifiedStatus !== "firing"))
      .map((m) => m.fingerprint),
    ...notices,
    // Muted notices are never sent: drop them too.
    ...input.members.filter((m) => m.status === "notice" && m.muted).map((m) => m.fingerprint),
  ];
  const stillFiring = input.members.some((m) => m.status === "firing");
  // Still firing: look again every group interval (a silence may have ended, the repeat come due).
  const base = notify ? input.now : input.lastNotifiedAt;
  const nextTimes = [input.now.getTime() + input.groupIntervalMs];
  if (base) nextTimes.push(base.getTime() + input.repeatIntervalMs);
  const nextFlushAt = stillFiring ? new Date(Math.min(...nextTimes)) : null;
  return {
    notify,
    firing,
    resolved,
    notices,
    state: notify ? `${firing.join(",")}|` : input.lastState,
    nextFlushAt,
    drop: [...new Set(drop)],
  };
}
