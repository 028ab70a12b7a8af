/**
 * The registry's operator metrics after some activity, scraped from /metrics as Prometheus does:
 * config writes and refusals by reason, the read caches, the outbox, the consumers and dead
 * letters (kit), and Git imports by result and duration.
 */
import { ConfigSetReply, configSetSubject } from "@nexus/contracts";
import { namingProblems, parsePrometheusText } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitRepo, type GitRepo } from "./git-repo.js";
import { call, type Harness, startRegistry } from "./harness.js";

describe("registry metrics", () => {
  let h: Harness;
  let repo: GitRepo;
  const scrape = async () => {
    const res = await h.registry.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    return parsePrometheusText(res.body);
  };

  beforeAll(async () => {
    [h, repo] = await Promise.all([startRegistry(), createGitRepo()]);
    await repo.commit({ "config/shop/production.yaml": "pool: 20\n" }, "First");
    await repo.push("main");
  });
  afterAll(async () => {
    await h?.close();
    await repo?.cleanup();
  });

  it("counts writes and refusals by reason, cache lookups, outbox publishes and Git imports", async () => {
    expect((await call(h, "POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
    expect((await call(h, "PUT", "/v1/namespaces/shop/layers/base", { pool: 10 })).status).toBe(200);
    const stale = await call(
      h,
      "PUT",
      "/v1/namespaces/shop/layers/base",
      { pool: 11 },
      { "if-match": '"999"' },
    );
    expect(stale.status).toBe(409);
    const anonymous = await call(
      h,
      "PUT",
      "/v1/namespaces/shop/layers/base",
      { pool: 2 },
      { authorization: "" },
    );
    expect(anonymous.status).toBe(401);
    const unknown = await call(h, "PUT", "/v1/namespaces/nope/layers/base", { pool: 1 });
    expect(unknown.status).toBe(404);
    for (let i = 0; i < 3; i++) {
      expect((await call(h, "GET", "/v1/namespaces/shop/environments/staging/resolved")).status).toBe(200);
    }
    // Writes over NATS (config.cmd.set) count too: one stored, one refused for its stale revision.
    const natsSet = (expectedRevision?: number) =>
      h.nats.bus.requestCommand(
        configSetSubject({ layer: "staging", namespace: "shop" }),
        {
          schemaVersion: 1,
          namespace: "shop",
          layer: "staging",
          content: { pool: 12 },
          author: "svc",
          expectedRevision,
        },
        ConfigSetReply,
      );
    expect(await natsSet()).toMatchObject({ ok: true });
    expect(await natsSet(99)).toMatchObject({ ok: false, error: { code: "revision_conflict" } });
    // A conditional read (what a client sends after an event) skips the memory: Redis answers.
    const conditional = await call(h, "GET", "/v1/namespaces/shop/environments/staging/resolved", undefined, {
      "if-none-match": '"0000"',
    });
    expect(conditional.status).toBe(200);
    const created = await call(h, "POST", "/v1/git-sources", {
      name: "acme",
      provider: "github",
      url: repo.url,
      repository: "acme/config",
      namespaces: ["shop"],
      environments: { production: "main" },
    });
    expect(created.status).toBe(201);
    expect((await call(h, "POST", "/v1/git-sources/acme/resync", {})).status).toBeLessThan(300);

    const m = await scrape();
    expect(namingProblems(m)).toEqual([]);
    const layerRoute = { route: "/v1/namespaces/:ns/layers/:layer", method: "PUT" };
    expect(m.value("nexus_config_writes_total", { ...layerRoute, outcome: "applied" })).toBe(1);
    expect(m.value("nexus_config_writes_total", { ...layerRoute, outcome: "refused" })).toBe(3);
    // Refused by access control before any handler ran: counted with the code the caller got.
    expect(m.value("nexus_config_write_refusals_total", { reason: anonymous.body.error.code })).toBe(1);
    const nats = { method: "NATS", route: "config.cmd.set" };
    expect(m.value("nexus_config_writes_total", { ...nats, outcome: "applied" })).toBe(1);
    expect(m.value("nexus_config_writes_total", { ...nats, outcome: "refused" })).toBe(1);
    expect(stale.body.error.code).toBe("revision_conflict");
    expect(m.value("nexus_config_write_refusals_total", { reason: "revision_conflict" })).toBe(2);
    expect(m.value("nexus_config_write_refusals_total", { reason: unknown.body.error.code })).toBe(1);
    // The write filled the caches: reads after it hit this process's memory.
    expect(
      m.value("nexus_config_cache_lookups_total", { cache: "memory", result: "hit" }),
    ).toBeGreaterThanOrEqual(2);
    const redis = (result: string) => m.find("nexus_config_cache_lookups_total", { cache: "redis", result });
    expect([...redis("hit"), ...redis("miss")].reduce((n, s) => n + s.value, 0)).toBeGreaterThanOrEqual(1);

    expect(m.value("nexus_git_imports_total", { trigger: "resync", result: "applied" })).toBe(1);
    expect(m.value("nexus_git_import_duration_seconds_count", { result: "applied" })).toBe(1);
    expect(m.value("nexus_git_import_duration_seconds_sum", { result: "applied" })).toBeGreaterThan(0);

    // Events of the writes went out through the outbox; nothing is left waiting.
    // (Rows handed over by a write are stamped published within 100 ms of their PubAck.)
    await h.registry.relay.drain();
    let after = await scrape();
    for (let i = 0; i < 50 && after.value("nexus_outbox_pending_events") > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await scrape();
    }
    expect(after.value("nexus_outbox_published_events_total")).toBeGreaterThanOrEqual(2);
    expect(after.value("nexus_outbox_publish_failures_total")).toBe(0);
    expect(after.value("nexus_outbox_pending_events")).toBe(0);
    expect(after.value("nexus_outbox_oldest_pending_age_seconds")).toBe(0);
    expect(after.value("nexus_outbox_publish_lag_seconds_count")).toBeGreaterThanOrEqual(1);
    // The Git import durable, as JetStream counts it, and its (empty) share of the DLQ.
    const durable = { durable: "config-registry-git-import" };
    expect(after.find("nexus_consumer_pending_messages", durable).length).toBeGreaterThan(0);
    expect(after.find("nexus_consumer_ack_pending_messages", durable).length).toBeGreaterThan(0);
    expect(after.find("nexus_consumer_redelivered_messages", durable).length).toBeGreaterThan(0);
    expect(after.value("nexus_dead_letter_messages", durable)).toBe(0);
  });
});
