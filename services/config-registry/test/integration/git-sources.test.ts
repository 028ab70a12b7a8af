import { CONFIG_CHANGED, GIT_IMPORT_FAILED, GIT_IMPORTED } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, deliver, importsOf, waitForImports } from "./git-helpers.js";
import { createGitRepo, type GitRepo } from "./git-repo.js";
import { githubPush } from "./git-webhooks.js";
import { call, type Harness, startRegistry } from "./harness.js";

const SECRET = "It's a Secret to Everybody";
const REPO = "acme/config";

describe("a Git source followed through GitHub webhooks", () => {
  let h: Harness;
  let repo: GitRepo;
  let events: Awaited<
    ReturnType<typeof collect<typeof CONFIG_CHANGED | typeof GIT_IMPORTED | typeof GIT_IMPORT_FAILED>>
  >;
  let head = "0".repeat(40);

  /** Commit, push to main, and deliver GitHub's push webhook for it. */
  async function pushAndNotify(files: Record<string, string | null>, message: string, notify = true) {
    const after = await repo.commit(files, message);
    const { before } = await repo.push("main");
    const delivery = await githubPush(
      {
        repository: REPO,
        branch: "main",
        before,
        after,
        commits: [{ id: after, message, modified: Object.keys(files) }],
      },
      SECRET,
    );
    head = after;
    return { after, delivery, answer: notify ? await deliver(h, "github", delivery) : undefined };
  }

  beforeAll(async () => {
    h = await startRegistry();
    repo = await createGitRepo();
    await call(h, "POST", "/v1/namespaces", { name: "payments-api" });
    await call(h, "POST", "/v1/namespaces", { name: "billing" });
    await call(h, "PUT", "/v1/namespaces/payments-api/schema", {
      type: "object",
      properties: { timeout: { type: "integer" } },
    });
    events = await collect(h, [CONFIG_CHANGED, GIT_IMPORTED, GIT_IMPORT_FAILED], "git-test");
  });
  afterAll(async () => {
    await events?.stop();
    await h?.close();
    await repo?.cleanup();
  });

  it("creates a source with sealed secrets that the API never returns", async () => {
    const versions = async () =>
      (
        await h.db.pool.query(
          "SELECT write_version FROM config_registry.namespaces WHERE name IN ('payments-api', 'billing') ORDER BY name",
        )
      ).rows.map((r) => Number(r.write_version));
    const before = await versions();
    const res = await call(h, "POST", "/v1/git-sources", {
      name: "acme-config",
      provider: "github",
      url: repo.url,
      repository: REPO,
      namespaces: ["payments-api", "billing"],
      environments: { production: "main", staging: "staging" },
      baseBranch: "main",
      webhookSecret: SECRET,
      credentials: { username: "bot", token: "ghp_not-a-real-token" },
    });
    expect(res.status).toBe(201);
    // A write in flight, which read the namespaces before they were bound, fails its swap and reads again.
    expect((await versions()).map((v, i) => v > before[i]!)).toEqual([true, true]);
    expect(res.body).toMatchObject({ name: "acme-config", hasWebhookSecret: true, hasCredentials: true });
    expect(res.raw).not.toContain(SECRET);
    const stored = await h.db.pool.query(
      "SELECT webhook_secret::text AS w, credentials::text AS c FROM config_registry.git_sources",
    );
    expect(stored.rows[0].w).not.toContain(SECRET);
    expect(stored.rows[0].c).not.toContain("ghp_not-a-real-token");
    const layers = await call(h, "GET", "/v1/git-sources/acme-config/layers");
    expect(
      layers.body.items.map(
        (l: { namespace: string; layer: string; path: string }) => `${l.namespace}/${l.layer}:${l.path}`,
      ),
    ).toEqual([
      "billing/base:config/billing/base.yaml",
      "billing/production:config/billing/production.yaml",
      "billing/staging:config/billing/staging.yaml",
      "payments-api/base:config/payments-api/base.yaml",
      "payments-api/production:config/payments-api/production.yaml",
      "payments-api/staging:config/payments-api/staging.yaml",
    ]);
  });

  it("answers GitHub's ping, and imports a push as revisions with the commit as source", async () => {
    const ping = await githubPush(
      { repository: REPO, branch: "main", before: head, after: "a".repeat(40), commits: [] },
      SECRET,
      "ping",
    );
    expect((await deliver(h, "github", ping)).status).toBe(200);

    const { after, answer } = await pushAndNotify(
      {
        "config/payments-api/base.yaml": "timeout: 5\nretries: 2\n",
        "config/payments-api/production.yaml": "timeout: 10\n",
        "config/billing/base.yaml": "currency: EUR\n",
      },
      "Set timeouts\n\nLonger in production.",
    );
    expect(answer).toMatchObject({ status: 202, body: { status: "accepted", sources: ["acme-config"] } });
    const [imported] = await waitForImports(h, "acme-config", 1);
    expect(imported).toMatchObject({
      status: "applied",
      commit: after,
      trigger: "webhook",
      author: "Alice Example",
      message: "Set timeouts\n\nLonger in production.",
    });
    expect(imported!.layers.map((l) => `${l.namespace}/${l.layer}`).sort()).toEqual([
      "billing/base",
      "payments-api/base",
      "payments-api/production",
    ]);

    const resolved = await call(h, "GET", "/v1/namespaces/payments-api/environments/production/resolved");
    expect(resolved.body).toMatchObject({ content: { timeout: 10, retries: 2 } });
    const history = await call(h, "GET", "/v1/namespaces/payments-api/layers/base/revisions");
    expect(history.body.items[0]).toMatchObject({ source: `git:${REPO}@${after}`, author: "Alice Example" });

    const changed = await events.waitFor(
      (e) =>
        e.type === CONFIG_CHANGED &&
        e.data.namespace === "payments-api" &&
        e.data.environment === "production",
    );
    expect(changed[0]!.data).toMatchObject({ source: `git:${REPO}@${after}`, actor: "Alice Example" });
    const done = await events.waitFor((e) => e.type === GIT_IMPORTED);
    expect(done[0]!.data).toMatchObject({
      source: "acme-config",
      branch: "main",
      commit: after,
      trigger: "webhook",
    });
    const bound = await call(h, "GET", "/v1/git-sources/acme-config/layers");
    const base = bound.body.items.find(
      (l: { namespace: string; layer: string }) => l.namespace === "payments-api" && l.layer === "base",
    );
    const layer = await call(h, "GET", "/v1/namespaces/payments-api/layers/base");
    expect(base).toMatchObject({
      commit: after,
      contentHash: layer.body.hash,
      revision: layer.body.revision,
    });
  });

  it("answers a replayed delivery with 200 and imports nothing", async () => {
    const { delivery } = await pushAndNotify({ "config/billing/base.yaml": "currency: USD\n" }, "USD");
    await waitForImports(h, "acme-config", 2);
    const replay = await deliver(h, "github", delivery);
    expect(replay).toMatchObject({
      status: 200,
      body: { status: "duplicate", deliveryId: delivery.deliveryId },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await importsOf(h, "acme-config")).toHaveLength(2);
  });

  it("applies nothing from a push with one invalid file, and reports the file and line", async () => {
    const before = (await call(h, "GET", "/v1/namespaces/payments-api/layers/base")).body.revision;
    await pushAndNotify(
      {
        "config/payments-api/base.yaml": "timeout: 6\n",
        "config/billing/base.yaml": "currency: [unclosed\n  x: 1\n",
      },
      "Broken YAML",
    );
    const [failed] = await waitForImports(h, "acme-config", 3);
    expect(failed).toMatchObject({ status: "failed", layers: [] });
    expect(failed!.problems[0]).toMatchObject({ path: "config/billing/base.yaml", code: "malformed_body" });
    expect(failed!.problems[0]!.line).toBeGreaterThan(0);
    expect((await call(h, "GET", "/v1/namespaces/payments-api/layers/base")).body.revision).toBe(before);
    const reported = await events.waitFor((e) => e.type === GIT_IMPORT_FAILED);
    expect((reported[0]!.data as { problems: { path: string }[] }).problems[0]!.path).toBe(
      "config/billing/base.yaml",
    );

    // A file that parses but breaks the namespace's schema fails the whole push too.
    await pushAndNotify(
      {
        "config/billing/base.yaml": "currency: GBP\n",
        "config/payments-api/production.yaml": "timeout: soon\n",
      },
      "Schema violation",
    );
    const [violated] = await waitForImports(h, "acme-config", 4);
    expect(violated).toMatchObject({ status: "failed" });
    expect(violated!.problems[0]).toMatchObject({
      path: "config/payments-api/production.yaml",
      layer: "production",
    });
    expect((await call(h, "GET", "/v1/namespaces/billing/layers/base")).body.content).toEqual({
      currency: "USD",
    });
  });

  it("catches a push whose webhook never came with the reconcile", async () => {
    const { after } = await pushAndNotify(
      {
        "config/billing/base.yaml": "currency: CHF\n",
        "config/payments-api/production.yaml": "timeout: 12\n",
      },
      "Fixed",
      false,
    );
    expect(await h.registry.gitReconciler.runOnce()).toBe(1);
    const [latest] = await importsOf(h, "acme-config");
    expect(latest).toMatchObject({ status: "applied", commit: after, trigger: "reconcile" });
    expect((await call(h, "GET", "/v1/namespaces/billing/layers/base")).body.content).toEqual({
      currency: "CHF",
    });
    expect(await h.registry.gitReconciler.runOnce()).toBe(0);
  });

  it("refuses an API edit of a Git-bound layer with 409, and records an explicit override", async () => {
    const refused = await call(h, "PUT", "/v1/namespaces/billing/layers/base", { currency: "JPY" });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "git_bound_layer" });
    expect(refused.body.error.message).toContain("config/billing/base.yaml");
    expect(refused.body.error.message).toContain("acme-config");

    const allowed = await call(h, "PUT", "/v1/namespaces/billing/layers/base?override=git", {
      currency: "JPY",
    });
    expect(allowed.status).toBe(200);
    const history = await call(h, "GET", "/v1/namespaces/billing/layers/base/revisions");
    expect(history.body.items[0].source).toBe("api:git-override");
    const bound = await call(h, "GET", "/v1/git-sources/acme-config/layers");
    const layer = bound.body.items.find(
      (l: { namespace: string; layer: string }) => l.namespace === "billing" && l.layer === "base",
    );
    expect(layer).toMatchObject({
      overriddenBy: expect.any(String),
      overrideRevision: allowed.body.revision,
    });
    expect(layer.contentHash).not.toBe(allowed.body.hash);
    // A layer the source does not own stays writable.
    expect((await call(h, "PUT", "/v1/namespaces/billing/layers/development", { x: 1 })).status).toBe(200);
  });

  it("refuses bad signatures (401), unknown repositories (404), malformed (400) and oversized (413) deliveries; ignores other events (202)", async () => {
    const push = { repository: REPO, branch: "main", before: head, after: head, commits: [] };
    const good = await githubPush(push, SECRET);
    const forged = await githubPush(push, "not the secret");
    expect((await deliver(h, "github", forged)).status).toBe(401);
    const unsigned = { ...good, headers: { ...good.headers, "x-hub-signature-256": "" } };
    expect((await deliver(h, "github", unsigned)).status).toBe(401);
    const rows = await h.db.pool.query(
      "SELECT count(*)::int AS n FROM config_registry.git_deliveries WHERE delivery_id = $1",
      [forged.deliveryId],
    );
    expect(rows.rows[0].n).toBe(0);

    expect(
      (await deliver(h, "github", await githubPush({ ...push, repository: "acme/other" }, SECRET))).status,
    ).toBe(404);
    expect((await deliver(h, "gitea", await githubPush(push, SECRET))).status).toBe(404);
    const issues = await deliver(h, "github", await githubPush(push, SECRET, "issues"));
    expect(issues).toMatchObject({ status: 202, body: { status: "ignored" } });
    const notJson = await githubPush(push, SECRET);
    const bad = { ...notJson, body: "{not json" };
    bad.headers = {
      ...bad.headers,
      "x-hub-signature-256": (await githubPush(push, SECRET)).headers["x-hub-signature-256"]!,
    };
    expect((await deliver(h, "github", bad)).status).toBe(401);
    const { sign } = await import("@octokit/webhooks-methods");
    const malformed = {
      ...notJson,
      body: "{not json",
      headers: { ...notJson.headers, "x-hub-signature-256": await sign(SECRET, "{not json") },
    };
    expect((await deliver(h, "github", malformed)).status).toBe(400);
    const huge = "x".repeat(6 * 1024 * 1024);
    const tooBig = {
      ...notJson,
      body: huge,
      headers: { ...notJson.headers, "x-hub-signature-256": await sign(SECRET, huge) },
    };
    expect((await deliver(h, "github", tooBig)).status).toBe(413);
  });

  it("resyncs every layout file on request", async () => {
    const res = await call(h, "POST", "/v1/git-sources/acme-config/resync", { branch: "main" });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ branch: "main", status: "applied", commit: head });
    // The override is undone: Git is the source again.
    expect((await call(h, "GET", "/v1/namespaces/billing/layers/base")).body.content).toEqual({
      currency: "CHF",
    });
  });

  it("never moves a layer back when an older push's webhook arrives after a newer one", async () => {
    const importOf = async (commit: string) => {
      for (let i = 0; i < 400; i++) {
        const found = (await importsOf(h, "acme-config")).find((x) => x.commit === commit);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no import of ${commit}`);
    };
    const older = await pushAndNotify({ "config/billing/base.yaml": "currency: EUR\n" }, "EUR", false);
    const newer = await pushAndNotify({ "config/billing/base.yaml": "currency: GBP\n" }, "GBP");
    expect(await importOf(newer.after)).toMatchObject({ status: "applied" });
    // The late delivery of the older push, then one more push: events are imported in order,
    // so once the last one is in, the late one has been handled.
    expect((await deliver(h, "github", older.delivery)).status).toBe(202);
    const last = await pushAndNotify(
      { "config/billing/production.yaml": "region: eu\n" },
      "production region",
    );
    expect(await importOf(last.after)).toMatchObject({ status: "applied" });
    expect((await importsOf(h, "acme-config")).some((i) => i.commit === older.after)).toBe(false);
    expect((await call(h, "GET", "/v1/namespaces/billing/layers/base")).body.content).toEqual({
      currency: "GBP",
    });
  });
});
