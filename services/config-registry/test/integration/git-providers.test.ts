import { randomBytes } from "node:crypto";
import { collectEvents } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliver, importsOf, waitForImports } from "./git-helpers.js";
import { createGitRepo, type GitRepo } from "./git-repo.js";
import { bitbucketPush, giteaPush, gitlabPush } from "./git-webhooks.js";
import { call, type Harness, startRegistry } from "./harness.js";

const SECRET = "provider-test-secret";
const SIGNING = `whsec_${randomBytes(24).toString("base64")}`;

describe("webhooks from GitLab, Gitea and Bitbucket", () => {
  let h: Harness;
  const repos: GitRepo[] = [];

  /** A repository with one env file for `ns` on main, bound to a source of this provider. */
  async function source(
    provider: string,
    ns: string,
    repository: string,
    extra: Record<string, unknown> = {},
  ) {
    const repo = await createGitRepo();
    repos.push(repo);
    await call(h, "POST", "/v1/namespaces", { name: ns });
    const res = await call(h, "POST", "/v1/git-sources", {
      name: `${ns}-src`,
      provider,
      url: repo.url,
      repository,
      namespaces: [ns],
      environments: { production: "main" },
      layout: { base: "<namespace>/base.json", environment: "<namespace>/<environment>.env" },
      webhookSecret: SECRET,
      ...extra,
    });
    expect(res.status).toBe(201);
    return repo;
  }

  async function commitAndPush(repo: GitRepo, files: Record<string, string>, message: string) {
    const after = await repo.commit(files, message, { name: "Bob Builder", email: "bob@example.test" });
    const { before } = await repo.push("main");
    return { before, after, commits: [{ id: after, message, added: Object.keys(files) }] };
  }

  beforeAll(async () => {
    h = await startRegistry();
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all(repos.map((r) => r.cleanup()));
  });

  it("GitLab: imports a Push Hook authenticated by X-Gitlab-Token", async () => {
    const repo = await source("gitlab", "gl-app", "platform/gl-config");
    const push = await commitAndPush(
      repo,
      { "gl-app/production.env": "LOG_LEVEL=info\nWORKERS=4\n" },
      "GitLab push",
    );
    const wrong = await deliver(
      h,
      "gitlab",
      gitlabPush({ repository: "platform/gl-config", branch: "main", ...push }, "wrong-token"),
    );
    expect(wrong.status).toBe(401);
    const ok = await deliver(
      h,
      "gitlab",
      gitlabPush({ repository: "platform/gl-config", branch: "main", ...push }, SECRET),
    );
    expect(ok).toMatchObject({ status: 202, body: { status: "accepted" } });
    const [done] = await waitForImports(h, "gl-app-src", 1);
    expect(done).toMatchObject({ status: "applied", commit: push.after, author: "Bob Builder" });
    const layer = await call(h, "GET", "/v1/namespaces/gl-app/layers/production");
    expect(layer.body.content).toEqual({ LOG_LEVEL: "info", WORKERS: "4" });
    const history = await call(h, "GET", "/v1/namespaces/gl-app/layers/production/revisions");
    expect(history.body.items[0].source).toBe(`git:platform/gl-config@${push.after}`);
  });

  it("GitLab with Standard Webhooks signing: verifies webhook-signature and refuses an old timestamp", async () => {
    // Its own token: a delivery that matches another source's token goes to that source (404 here).
    const token = "signed-source-token";
    const repo = await source("gitlab", "gls-app", "platform/gls-config", {
      signingSecret: SIGNING,
      webhookSecret: token,
      baseBranch: "main",
    });
    const push = await commitAndPush(repo, { "gls-app/base.json": '{"region": "eu-west-1"}' }, "Signed push");
    const p = { repository: "platform/gls-config", branch: "main", ...push };
    const stale = gitlabPush(p, token, { secret: SIGNING, timestamp: new Date(Date.now() - 3600_000) });
    expect((await deliver(h, "gitlab", stale)).status).toBe(401);
    const forged = gitlabPush(p, token, { secret: `whsec_${randomBytes(24).toString("base64")}` });
    expect((await deliver(h, "gitlab", forged)).status).toBe(401);
    const unsigned = gitlabPush(p, token);
    expect((await deliver(h, "gitlab", unsigned)).status).toBe(401);
    const signed = gitlabPush(p, token, { secret: SIGNING });
    expect((await deliver(h, "gitlab", signed)).status).toBe(202);
    await waitForImports(h, "gls-app-src", 1);
    expect((await call(h, "GET", "/v1/namespaces/gls-app/layers/base")).body.content).toEqual({
      region: "eu-west-1",
    });
    // The replay is known by its webhook-id.
    expect((await deliver(h, "gitlab", signed)).body).toMatchObject({ status: "duplicate" });
  });

  it("Gitea: imports a push signed in X-Gitea-Signature", async () => {
    const repo = await source("gitea", "gt-app", "ops/gt-config");
    const push = await commitAndPush(repo, { "gt-app/production.env": "FEATURE_X=on\n" }, "Gitea push");
    const forged = giteaPush({ repository: "ops/gt-config", branch: "main", ...push }, "not-the-secret");
    expect((await deliver(h, "gitea", forged)).status).toBe(401);
    const pushed = collectEvents<{ data: { sourceName?: string } }>(
      h.nats.nc,
      `${h.nats.prefix}.git.pushed.>`,
      1,
      10_000,
    );
    const ok = await deliver(
      h,
      "gitea",
      giteaPush({ repository: "ops/gt-config", branch: "main", ...push }, SECRET),
    );
    expect(ok.status).toBe(202);
    // The event names its source, so pipelines triggered by the name need no lookup.
    expect((await pushed)[0]!.event.data.sourceName).toBe("gt-app-src");
    await waitForImports(h, "gt-app-src", 1);
    expect((await call(h, "GET", "/v1/namespaces/gt-app/layers/production")).body.content).toEqual({
      FEATURE_X: "on",
    });
  });

  it("Bitbucket: imports repo:push (no file list: every layout file is read), ignores other event keys", async () => {
    const repo = await source("bitbucket", "bb-app", "team/bb-config");
    const push = await commitAndPush(
      repo,
      { "bb-app/base.json": '{"pool": 5}', "bb-app/production.env": "POOL_MAX=20\n" },
      "Bitbucket push",
    );
    const p = { repository: "team/bb-config", branch: "main", ...push };
    const other = await deliver(h, "bitbucket", bitbucketPush(p, SECRET, "pullrequest:created"));
    expect(other).toMatchObject({ status: 202, body: { status: "ignored" } });
    expect((await deliver(h, "bitbucket", bitbucketPush(p, "nope"))).status).toBe(401);
    expect((await deliver(h, "bitbucket", bitbucketPush(p, SECRET))).status).toBe(202);
    const [done] = await waitForImports(h, "bb-app-src", 1);
    // No baseBranch: the base file is not the source's, only the production overlay is.
    expect(done!.layers.map((l) => l.layer)).toEqual(["production"]);
    expect((await call(h, "GET", "/v1/namespaces/bb-app/layers/production")).body.content).toEqual({
      POOL_MAX: "20",
    });
    expect(await importsOf(h, "bb-app-src")).toHaveLength(1);
  });
});
