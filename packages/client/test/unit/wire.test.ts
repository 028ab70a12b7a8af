import { CONFIG_APPLIED, ConfigApplied, configChangedSubject, eventCatalog } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import { buildEvent, parseConfigChanged, parseResyncCommand } from "../../src/wire.js";

const hash = "a".repeat(64);
const applied = {
  schemaVersion: 1 as const,
  service: "payments",
  instanceId: "host:1:abc",
  namespace: "payments-api",
  environment: "production",
  revision: 4,
  hash,
  source: "live" as const,
  trigger: "change" as const,
  appliedAt: "2026-01-01T00:00:00.000Z",
  status: "applied" as const,
};
const bytes = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

describe("buildEvent", () => {
  it("builds a CloudEvent on the prefixed subject, validated by the contract", () => {
    const { subject, envelope } = buildEvent("t123", CONFIG_APPLIED, applied, "nexus-client/payments");
    expect(subject).toBe("t123.config.applied.production.payments-api");
    expect(envelope).toMatchObject({
      specversion: "1.0",
      type: CONFIG_APPLIED,
      source: "nexus-client/payments",
    });
    expect(ConfigApplied.parse(envelope.data)).toEqual(applied);
    expect(envelope.subject).toBe("payments-api/production/host:1:abc");
  });

  it("refuses data that breaks the contract (a rejected ack needs its reason)", () => {
    const rejected = { ...applied, status: "rejected" } as never;
    expect(() => buildEvent("nexus", CONFIG_APPLIED, rejected, "x")).toThrow(/reason/);
    expect(() => buildEvent("nexus", CONFIG_APPLIED, { ...applied, hash: "nope" }, "x")).toThrow(/hash/);
  });
});

describe("parseConfigChanged", () => {
  const data = {
    schemaVersion: 1,
    namespace: "payments-api",
    environment: "production",
    revision: 3,
    previousRevision: 2,
    hash,
    previousHash: "b".repeat(64),
    layer: "production",
    changedPaths: ["/a"],
    trigger: "write",
    actor: "alice",
    source: "api",
  };
  const envelope = {
    specversion: "1.0",
    id: "0190a0a0-0000-7000-8000-000000000000",
    source: "nexus/config-registry",
    type: "nexus.config.changed",
    subject: "payments-api/production",
    time: "2026-01-01T00:00:00.000Z",
    datacontenttype: "application/json",
    data,
  };

  it("accepts what the registry publishes", () => {
    const parsed = parseConfigChanged(bytes(envelope));
    expect(parsed).toMatchObject({ ok: true, value: { data: { revision: 3 } } });
    expect(configChangedSubject(data as never)).toBe(
      `${eventCatalog["nexus.config.changed"].type}.production.payments-api`,
    );
  });

  it("refuses junk, other event types and data that breaks the contract", () => {
    expect(parseConfigChanged(bytes("{not json")).ok).toBe(false);
    expect(parseConfigChanged(bytes({ ...envelope, type: "nexus.config.applied" }))).toMatchObject({
      ok: false,
      reason: expect.stringContaining("expected nexus.config.changed"),
    });
    expect(parseConfigChanged(bytes({ ...envelope, data: { ...data, revision: "3" } })).ok).toBe(false);
    expect(parseConfigChanged(bytes(data)).ok).toBe(false);
  });
});

describe("parseResyncCommand", () => {
  it("accepts a resync for all instances or one, and refuses a malformed one", () => {
    const all = {
      schemaVersion: 1,
      namespace: "payments-api",
      environment: "production",
      requestedBy: "drift",
    };
    expect(parseResyncCommand(bytes(all))).toMatchObject({ ok: true, value: all });
    expect(parseResyncCommand(bytes({ ...all, instanceId: "i-1", requestId: "r-1" })).ok).toBe(true);
    expect(parseResyncCommand(bytes({ ...all, schemaVersion: 2 })).ok).toBe(false);
    expect(parseResyncCommand(bytes({ ...all, requestedBy: undefined })).ok).toBe(false);
  });
});
