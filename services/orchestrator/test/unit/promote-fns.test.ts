import { describe, expect, it } from "vitest";
import { parseAck } from "../../src/runs/applied-acks.js";
import {
  pointerTokens,
  previewLines,
  promotedContent,
  refOf,
  rolloutProgress,
  sameJson,
  secretsIn,
  withSeenAcks,
} from "../../src/steps/promote-fns.js";
import { commandEnv, hookSignature, tailOf } from "../../src/steps/step-fns.js";

describe("promotedContent", () => {
  const source = { db: { host: "staging-db", pool: 10 }, replicas: 2, feature: { x: true } };
  const target = { db: { host: "prod-db" }, replicas: 8, onlyProd: 1 };

  it("copies the source overlay and keeps the target's values at pinned paths", () => {
    expect(promotedContent(source, target, ["/db/host", "/replicas"])).toEqual({
      db: { host: "prod-db", pool: 10 },
      replicas: 8,
      feature: { x: true },
    });
  });

  it("drops a pinned path the target does not have, and creates parents for one it has", () => {
    expect(promotedContent(source, {}, ["/db/host"])).toEqual({
      db: { pool: 10 },
      replicas: 2,
      feature: { x: true },
    });
    expect(promotedContent({ a: 1 }, { tls: { cert: "c" } }, ["/tls/cert"])).toEqual({
      a: 1,
      tls: { cert: "c" },
    });
  });

  it("does not mutate its inputs and treats __proto__ as data", () => {
    const src = JSON.parse('{"__proto__": {"x": 1}, "a": 1}');
    const out = promotedContent(src, JSON.parse('{"__proto__": {"y": 2}}'), ["/__proto__"]);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"y":2},"a":1}');
    expect(JSON.stringify(src)).toBe('{"__proto__":{"x":1},"a":1}');
  });

  it("unescapes RFC 6901 tokens", () => {
    expect(pointerTokens("/a~1b/c~0d")).toEqual(["a/b", "c~d"]);
  });
});

describe("previewLines", () => {
  it("lists each change as an operation, a path and the new value, long values cut", () => {
    expect(
      previewLines({ a: 1, b: { c: 2 }, gone: true }, { a: 2, b: { c: 2, d: "x".repeat(5) } }, 4),
    ).toEqual(["remove /gone", 'add /b/d = "xxx…', "replace /a = 2"]);
    expect(previewLines({ a: 1 }, { a: 1 })).toEqual([]);
  });
});

describe("secretsIn", () => {
  it("keeps the secret pointers the overlay itself sets, not those from the base", () => {
    const overlay = { db: { password: "plain-to-a-reader" }, level: 1 };
    expect(secretsIn(overlay, ["/db/password", "/api/key"])).toEqual(["/db/password"]);
    expect(secretsIn({}, ["/db/password"])).toEqual([]);
  });
});

describe("sameJson", () => {
  it("ignores key order, not array order or types", () => {
    expect(sameJson({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(sameJson({ b: [2, 1] }, { b: [1, 2] })).toBe(false);
    expect(sameJson({ a: 1 }, { a: "1" })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: null })).toBe(false);
  });
});

describe("rolloutProgress", () => {
  const i = (revision: number | null, status = "live", rejected: number | null = null) => ({
    revision,
    status,
    rejected: rejected === null ? null : { revision: rejected },
  });

  it("counts live instances on the revision or newer", () => {
    expect(rolloutProgress([i(5), i(6), i(4), i(4, "gone"), i(6, "stopping")], 5)).toEqual({
      live: 3,
      applied: 2,
      rejected: 0,
      percent: 66.66,
    });
  });

  it("counts rejections of the revision and treats an empty environment as done", () => {
    expect(rolloutProgress([i(4, "live", 5), i(4, "cache", 3)], 5)).toMatchObject({
      rejected: 1,
      applied: 0,
    });
    expect(rolloutProgress([], 5).percent).toBe(100);
  });
});

describe("step helpers", () => {
  it("signs timestamp and body together", () => {
    const a = hookSignature("k".repeat(16), "100", "{}");
    expect(a).toMatch(/^sha256=[a-f0-9]{64}$/);
    expect(hookSignature("k".repeat(16), "101", "{}")).not.toBe(a);
  });

  it("passes the config, its top-level scalars and nothing of its own environment but PATH", () => {
    const env = commandEnv(
      { "log-level": "info", replicas: 3, db: { host: "h" }, off: null },
      { id: "r1", namespace: "shop", target: "production", revision: 7 },
      "/bin",
    );
    expect(env).toEqual({
      PATH: "/bin",
      NEXUS_RUN_ID: "r1",
      NEXUS_NAMESPACE: "shop",
      NEXUS_ENVIRONMENT: "production",
      NEXUS_REVISION: "7",
      NEXUS_CONFIG: JSON.stringify({ "log-level": "info", replicas: 3, db: { host: "h" }, off: null }),
      NEXUS_CFG_LOG_LEVEL: "info",
      NEXUS_CFG_REPLICAS: "3",
    });
  });

  it("keeps the end of long output", () => {
    expect(tailOf("abcdef", 3)).toBe("…(3 characters cut)\ndef");
    expect(tailOf("abc", 3)).toBe("abc");
  });
});

describe("applied-acks seen beside the inventory", () => {
  const live = (instanceId: string, revision: number | null) => ({
    instanceId,
    revision,
    status: "live",
    rejected: null,
  });

  it("counts an instance that acked a newer revision than the inventory shows", () => {
    const merged = withSeenAcks(
      [live("a", 3), live("b", 4), live("c", null)],
      new Map([
        ["a", 4],
        ["b", 2],
        ["z", 4],
      ]),
    );
    expect(merged.map((i) => i.revision)).toEqual([4, 4, null]);
    expect(rolloutProgress(merged, 4)).toMatchObject({ live: 3, applied: 2 });
  });

  it("reads only applied acks of the config.applied type", () => {
    const ack = (data: object, type = "nexus.config.applied") => JSON.stringify({ type, data });
    expect(parseAck(ack({ status: "applied", instanceId: "i-1", revision: 7 }))).toEqual({
      instanceId: "i-1",
      revision: 7,
    });
    expect(parseAck(ack({ status: "rejected", instanceId: "i-1", revision: 7 }))).toBeNull();
    expect(parseAck(ack({ status: "applied", instanceId: "i-1", revision: 7 }, "nexus.other"))).toBeNull();
    expect(parseAck(ack({ status: "applied", instanceId: 5, revision: 7 }))).toBeNull();
    expect(parseAck("not json")).toBeNull();
  });

  it("keeps only the revision of a layer in a run", () => {
    expect(refOf({ revision: 9, content: { big: "x" } } as { revision: number })).toEqual({ revision: 9 });
  });
});
