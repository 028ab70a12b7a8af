import type { ConfigApplied, InstanceHeartbeat } from "@nexus/contracts";
import type { PendingInstance, RejectionState, RunningState } from "./inventory-types.js";

/**
 * Is `next` a newer running state than `current`? Reports are ordered by their event time; at the
 * same time the higher revision wins. A repeated or late report is never newer, so it cannot move
 * an instance backwards. (The store applies the same rule in SQL across detector instances.)
 */
export function isNewerRunning(current: RunningState | null, next: RunningState): boolean {
  if (!current) return true;
  if (next.at !== current.at) return next.at > current.at;
  return next.revision > current.revision;
}

export function isNewerRejection(current: RejectionState | null, next: RejectionState): boolean {
  if (!current) return true;
  if (next.at !== current.at) return next.at > current.at;
  return (next.revision ?? -1) > (current.revision ?? -1);
}

/** A heartbeat as a pending update: running state, and its `lastRejected` (absent clears it). */
export function fromHeartbeat(hb: InstanceHeartbeat, at: number): PendingInstance {
  return {
    namespace: hb.namespace,
    environment: hb.environment,
    instanceId: hb.instanceId,
    service: hb.service,
    running: { revision: hb.revision, hash: hb.hash, status: hb.status, at },
    rejection: hb.lastRejected
      ? { revision: hb.lastRejected.revision, hash: hb.lastRejected.hash, reason: hb.lastRejected.reason, at }
      : { revision: null, hash: null, reason: null, at },
    lastSeenAt: at,
    intervalSeconds: hb.intervalSeconds,
    reports: [],
  };
}

/**
 * An applied ack sets what the instance runs (and clears a rejection it superseded: the store
 * keeps a rejection only while it is newer than the running revision). A rejection only records
 * the refusal: the instance keeps running what it had, which the ack does not say.
 */
export function fromApplied(ev: ConfigApplied, at: number): PendingInstance {
  const base = {
    namespace: ev.namespace,
    environment: ev.environment,
    instanceId: ev.instanceId,
    service: ev.service,
    lastSeenAt: at,
    intervalSeconds: null,
    reports: [{ revision: ev.revision, status: ev.status, at }],
  };
  if (ev.status === "rejected") {
    return {
      ...base,
      running: null,
      rejection: { revision: ev.revision, hash: ev.hash, reason: ev.reason, at },
    };
  }
  return {
    ...base,
    running: { revision: ev.revision, hash: ev.hash, status: ev.source, at },
    rejection: null,
  };
}

/** Merge a newer-or-older update into what is pending for the same instance. */
export function mergePending(current: PendingInstance, next: PendingInstance): PendingInstance {
  const running =
    next.running && isNewerRunning(current.running, next.running) ? next.running : current.running;
  const rejection =
    next.rejection && isNewerRejection(current.rejection, next.rejection)
      ? next.rejection
      : current.rejection;
  const nextIsLater = next.lastSeenAt >= current.lastSeenAt;
  return {
    ...current,
    service: nextIsLater ? next.service : current.service,
    running,
    rejection,
    lastSeenAt: Math.max(current.lastSeenAt, next.lastSeenAt),
    intervalSeconds:
      (nextIsLater ? next.intervalSeconds : null) ?? current.intervalSeconds ?? next.intervalSeconds,
    reports: next.reports.length ? [...current.reports, ...next.reports] : current.reports,
  };
}
