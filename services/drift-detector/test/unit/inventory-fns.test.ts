import type { ConfigApplied, InstanceHeartbeat } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import {
  fromApplied,
  fromHeartbeat,
  isNewerRunning,
  mergePending,
} from "../../src/inventory/inventory-fns.js";

const H = (c: string) => c.repeat(64);
const hb = (revision: number, extra: Partial<InstanceHeartbeat> = {}): InstanceHeartbeat => ({
  schemaVersion: 1,
  service: "shop",
  instanceId: "i-1",
  namespace: "shop",
  environment: "production",
  revision,
  hash: H(String(revision % 10)),
  status: "live",
  startedAt: "2026-01-01T00:00:00Z",
  sdkVersion: "1.0.0",
  intervalSeconds: 10,
  ...extra,
});
const applied = (revision: number, status: "applied" | "rejected"): ConfigApplied =>
  status === "applied"
    ? {
        schemaVersion: 1,
        service: "shop",
        instanceId: "i-1",
        namespace: "shop",
        environment: "production",
        revision,
        hash: H("a"),
        source: "live",
        trigger: "change",
        appliedAt: "2026-01-01T00:00:00Z",
        status,
      }
    : {
        schemaVersion: 1,
        service: "shop",
        instanceId: "i-1",
        namespace: "shop",
        environment: "production",
        revision,
        hash: H("b"),
        source: "live",
        trigger: "change",
        appliedAt: "2026-01-01T00:00:00Z",
        status,
        reason: "schema says no",
      };

describe("report ordering", () => {
  it("a later report wins; at the same time the higher revision wins; a repeat never wins", () => {
    const cur = { revision: 5, hash: H("5"), status: "live" as const, at: 1000 };
    expect(isNewerRunning(cur, { ...cur, revision: 4, at: 2000 })).toBe(true); // restarted from cache: real
    expect(isNewerRunning(cur, { ...cur, revision: 6, at: 999 })).toBe(false); // late
    expect(isNewerRunning(cur, { ...cur, revision: 6 })).toBe(true);
    expect(isNewerRunning(cur, { ...cur })).toBe(false);
    expect(isNewerRunning(null, cur)).toBe(true);
  });

  it("merging out of order keeps the newest running state and the latest sighting", () => {
    const late = fromHeartbeat(hb(3), 1000);
    const fresh = fromHeartbeat(hb(4), 2000);
    const merged = mergePending(fresh, late);
    expect(merged.running?.revision).toBe(4);
    expect(merged.lastSeenAt).toBe(2000);
    expect(mergePending(late, fresh).running?.revision).toBe(4);
  });

  it("a rejection records the refusal and leaves the running state alone", () => {
    const p = mergePending(fromHeartbeat(hb(3), 1000), fromApplied(applied(4, "rejected"), 1500));
    expect(p.running?.revision).toBe(3);
    expect(p.rejection).toMatchObject({ revision: 4, reason: "schema says no" });
    expect(p.reports).toEqual([{ revision: 4, status: "rejected", at: 1500 }]);
  });

  it("a later heartbeat without lastRejected clears the rejection; an earlier one does not", () => {
    const rejected = fromApplied(applied(4, "rejected"), 1500);
    expect(mergePending(rejected, fromHeartbeat(hb(4), 2000)).rejection?.revision).toBeNull();
    expect(mergePending(rejected, fromHeartbeat(hb(3), 1000)).rejection?.revision).toBe(4);
  });

  it("an applied ack from the cache reports status cache", () => {
    const ev = { ...applied(2, "applied"), source: "cache" } as ConfigApplied;
    expect(fromApplied(ev, 1).running?.status).toBe("cache");
  });
});
