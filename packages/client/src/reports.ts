import type { ConfigApplied, InstanceHeartbeat } from "@nexus/contracts";
import type { ResolvedDocument } from "./registry-reader.js";
import type { ConfigSource, Rejection } from "./types.js";
import { SDK_VERSION } from "./version.js";

/** What every report says about who reports. */
export interface Identity {
  service: string;
  instanceId: string;
  namespace: string;
  environment: string;
}

const MAX_REASON = 2_000;

export interface AppliedFacts {
  status: ConfigApplied["status"];
  document: ResolvedDocument;
  source: ConfigSource;
  trigger: ConfigApplied["trigger"];
  reason?: string | undefined;
  resyncRequestId?: string | undefined;
  at?: Date;
}

/** The config.applied event data for one outcome. */
export function appliedReport(identity: Identity, facts: AppliedFacts): ConfigApplied {
  const base = {
    schemaVersion: 1 as const,
    ...identity,
    revision: facts.document.revision,
    hash: facts.document.hash,
    source: facts.source,
    trigger: facts.trigger,
    ...(facts.resyncRequestId ? { resyncRequestId: facts.resyncRequestId } : {}),
    appliedAt: (facts.at ?? new Date()).toISOString(),
  };
  if (facts.status === "applied") return { ...base, status: "applied" };
  return { ...base, status: "rejected", reason: (facts.reason || "rejected").slice(0, MAX_REASON) };
}

export interface HeartbeatFacts {
  document: ResolvedDocument;
  status: InstanceHeartbeat["status"];
  rejected: Rejection | undefined;
  startedAt: string;
  intervalSeconds: number;
}

/** The instance.heartbeat event data; a rejection is only news while it is not what runs. */
export function heartbeatReport(identity: Identity, facts: HeartbeatFacts): InstanceHeartbeat {
  const rejected = facts.rejected && facts.rejected.hash !== facts.document.hash ? facts.rejected : undefined;
  return {
    schemaVersion: 1,
    ...identity,
    revision: facts.document.revision,
    hash: facts.document.hash,
    status: facts.status,
    ...(rejected
      ? {
          lastRejected: {
            revision: rejected.revision,
            hash: rejected.hash,
            reason: rejected.reason.slice(0, MAX_REASON),
          },
        }
      : {}),
    startedAt: facts.startedAt,
    sdkVersion: SDK_VERSION,
    intervalSeconds: facts.intervalSeconds,
  };
}
