import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitRepo, type GitRepo } from "./git-repo.js";
import { call, type Harness, startRegistry } from "./harness.js";

/**
 * A Git import locks each namespace it writes, in namespace order. Another transaction that holds
 * one of them and then asks for one the import holds closes a cycle, and Postgres fails the one
 * that waited first: here the import. It is imported again instead of failing.
 */
describe("a Git import that Postgres picks as a deadlock victim", () => {
  let h: Harness;
  let repo: GitRepo;

  beforeAll(async () => {
    h = await startRegistry();
    repo = await createGitRepo();
    for (const name of ["billing", "payments-api"]) await call(h, "POST", "/v1/namespaces", { name });
    const created = await call(h, "POST", "/v1/git-sources", {
      name: "locks",
      provider: "github",
      url: repo.url,
      repository: "acme/locks",
      namespaces: ["billing", "payments-api"],
      environments: { production: "main" },
      baseBranch: "main",
      webhookSecret: "s3cret-s3cret",
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await h?.close();
    await repo?.cleanup();
  });

  it("imports again and applies the push once the other transaction is done", async () => {
    await repo.commit(
      { "config/billing/base.yaml": "currency: EUR\n", "config/payments-api/base.yaml": "timeout: 5\n" },
      "Start",
    );
    await repo.push("main");
    const other = await h.db.pool.connect();
    let resync: Promise<Awaited<ReturnType<typeof call>>> | undefined;
    try {
      await other.query("BEGIN");
      // Postgres fails the transaction whose deadlock_timeout runs out first: make it never be
      // this one (on a loaded machine the import's wait could start less than 1 s before ours).
      await other.query("SET LOCAL deadlock_timeout = '60s'");
      // Held first: the import locks billing, then waits for this one.
      await other.query("SELECT 1 FROM namespaces WHERE name = 'payments-api' FOR UPDATE");
      resync = call(h, "POST", "/v1/git-sources/locks/resync", { branch: "main" });
      await expect
        .poll(
          async () =>
            (
              await h.db.pool.query(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
              )
            ).rows[0].n,
          { timeout: 10_000 },
        )
        .toBe(1);
      // Closes the cycle; the import, waiting longer, is failed by Postgres and lets this through.
      await other.query("SELECT 1 FROM namespaces WHERE name = 'billing' FOR UPDATE");
      await other.query("COMMIT");
    } finally {
      other.release();
    }
    const res = await resync!;
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ branch: "main", status: "applied" });
    expect((await call(h, "GET", "/v1/namespaces/billing/layers/base")).body.content).toEqual({
      currency: "EUR",
    });
    expect((await call(h, "GET", "/v1/namespaces/payments-api/layers/base")).body.content).toEqual({
      timeout: 5,
    });
    // Applied once: one revision per layer.
    const revisions = await h.db.pool.query(
      "SELECT namespace FROM revisions WHERE source LIKE 'git:%' ORDER BY 1",
    );
    expect(revisions.rows.map((r) => r.namespace)).toEqual(["billing", "payments-api"]);
  }, 20_000);
});
