/**
 * `nexus whoami`, `nexus token`, `nexus audit` and the CLI's words for refusals, run as the real
 * binary against the real registry (tokens in its Postgres, revocation through its service).
 */
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createFailedAuthLimiter } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../../services/config-registry/test/integration/harness.js";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

const idOf = (token: string) => token.slice(4, 20);

describe("nexus whoami / token / audit", () => {
  let env: CliEnvironment;
  /** Runs with another token than the admin's. */
  const as = (token: string | undefined, args: string[], stdin?: string) =>
    env.run(args, { env: { NEXUS_TOKEN: token }, ...(stdin !== undefined ? { stdin } : {}) });

  beforeAll(async () => {
    env = await startCliEnvironment();
    expect((await env.run(["login", env.url])).code).toBe(0);
    expect((await env.run(["ns", "create", "shop"])).code).toBe(0);
  });
  afterAll(async () => env?.close());

  it("whoami says who the token is and what it may do, for people and as JSON", async () => {
    const r = await env.run(["whoami"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `You are harness at ${env.url}, through API token ${idOf(env.registry.adminToken)}.`,
    );
    expect(r.stdout).toMatch(
      /^ {2}admin {2}administer everything: tokens, the audit log, every namespace in every environment$/m,
    );

    const json = await env.run(["whoami", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({
      subject: `token:${idOf(env.registry.adminToken)}`,
      name: "harness",
      kind: "token",
      grants: [{ role: "admin", namespaces: ["*"], environments: ["*"] }],
    });
  });

  it("creates a token shown once, lists it, revokes it, and the next command with it is refused", async () => {
    const created = await env.run([
      "token",
      "create",
      "ci-deploy",
      "--grant",
      "editor:shop:staging",
      "--grant",
      "viewer:shop",
      "--owner",
      "carol",
      "--expires-in-days",
      "30",
    ]);
    expect(created.code).toBe(0);
    // The token alone on stdout, so TOKEN=$(nexus token create ...) works; the rest on stderr.
    expect(created.stdout).toMatch(/^nxs_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
    const token = created.stdout.trim();
    const id = idOf(token);
    expect(created.stderr).toContain(`Created token ci-deploy (id ${id}), owned by carol; it expires `);
    expect(created.stderr).toContain("read and change namespace shop, in staging only");
    expect(created.stderr).toContain("This is the only time the token is shown");
    expect(created.stderr).not.toContain(token);

    // The new token works, and its owner is the author of its writes.
    const who = await as(token, ["whoami"]);
    expect(who.stdout).toContain("You are carol");
    const set = await as(token, ["set", "shop", "staging", "-f", "-", "-m", "by carol"], "pool: 5\n");
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    const history = await env.run(["history", "shop", "staging"]);
    expect(history.stdout).toMatch(/\bcarol\s+api\s+[0-9a-f]{12}\s+by carol$/m);

    const list = await env.run(["token", "list"]);
    expect(list.code).toBe(0);
    const header = list.stdout.split("\n")[0];
    expect(header).toMatch(/^ID\s+NAME\s+OWNER\s+GRANTS\s+STATUS\s+EXPIRES\s+LAST USED$/);
    expect(list.stdout).toMatch(
      new RegExp(
        `^${id}\\s+ci-deploy\\s+carol\\s+editor:shop:staging, viewer:shop\\s+active\\s+\\d{4}-\\d{2}-\\d{2} `,
        "m",
      ),
    );
    expect(list.stdout).not.toContain("nxs_");

    const revoked = await env.run(["token", "revoke", id]);
    expect(revoked.stderr).toBe("");
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(
      `Revoked token ${id} (ci-deploy, owned by carol). Every Nexus service refuses it from now on.\n`,
    );

    // Refused at once: the very next command with it.
    const refused = await as(token, ["ns", "list"]);
    expect(refused.code).toBe(5);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(
      "error: your token (from NEXUS_TOKEN) was revoked and will never work again",
    );
    expect(refused.stderr).toContain("code token_revoked, HTTP 401");
    expect(refused.stderr).toContain("nexus token create");
    const refusedJson = await as(token, ["whoami", "--json"]);
    expect(JSON.parse(refusedJson.stderr)).toMatchObject({
      error: { code: "token_revoked", status: 401, exitCode: 5 },
    });

    // Listed only with --all; revoking again changes nothing.
    expect((await env.run(["token", "list"])).stdout).not.toContain(id);
    const all = await env.run(["token", "list", "--all", "--json"]);
    expect(JSON.parse(all.stdout).tokens).toContainEqual(
      expect.objectContaining({ id, status: "revoked", revokedBy: "harness", owner: "carol" }),
    );
    const again = await env.run(["token", "revoke", id]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/was already revoked on .* by harness; nothing changed\.\n$/);
  });

  it("prints the created token as JSON for scripts", async () => {
    const r = await env.run(["token", "create", "robot", "--grant", "viewer", "--json"]);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body).toMatchObject({ name: "robot", owner: "harness", status: "active", expiresAt: null });
    expect(body.token).toMatch(/^nxs_/);
    expect(r.stderr).toBe("");
  });

  it("names the bad --grant in plain words, exit 4, and creates nothing", async () => {
    const r = await env.run(["token", "create", "typo", "--grant", "viewer", "--grant", "editr:shop"]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('error: --grant "editr:shop" is not a grant');
    expect(r.stderr).toContain("field: grants.1");
    expect(r.stderr).toContain("code invalid_grant, HTTP 422");
    expect(r.stderr).toContain("e.g. --grant editor:payments-*:staging");
    const names = JSON.parse((await env.run(["token", "list", "--json"])).stdout).tokens.map(
      (t: { name: string }) => t.name,
    );
    expect(names).not.toContain("typo");
  });

  it("refuses to revoke a pasted token without echoing it (exit 2)", async () => {
    const secret = await env.registry.tokenFor(["viewer"], { name: "pasted" });
    const r = await env.run(["token", "revoke", secret]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("that is a token, not a token id");
    expect(r.stderr).not.toContain(secret.slice(21));
  });

  it("says which role is missing (403, exit 5), and the audit log shows the denied request", async () => {
    const viewer = await env.registry.tokenFor(["viewer:shop"], { name: "reader", owner: "dave" });
    const write = await as(viewer, ["set", "shop", "staging", "-f", "-"], "pool: 9\n");
    expect(write.code).toBe(5);
    expect(write.stderr).toContain(
      "error: not allowed: your token lacks the editor role for namespace shop, environment staging",
    );
    expect(write.stderr).toContain("--grant editor:shop:staging");
    const admin = await as(viewer, ["token", "list"]);
    expect(admin.code).toBe(5);
    expect(admin.stderr).toContain("lacks the admin role on every namespace");

    const actor = `token:${idOf(viewer)}`;
    const audit = await env.run(["audit", "--outcome", "denied", "--actor", idOf(viewer)]);
    expect(audit.stderr).toBe("");
    expect(audit.code).toBe(0);
    const rows = audit.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^SEQ\s+TIME\s+ACTOR\s+OUTCOME\s+STATUS\s+ACTION\s+RESOURCE\s+REASON$/);
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(
      new RegExp(
        `${actor}\\s+denied\\s+403\\s+PUT /v1/namespaces/:ns/layers/:layer\\s+/v1/namespaces/shop/layers/staging\\s+needs editor$`,
      ),
    );
    expect(rows[2]).toMatch(
      new RegExp(`${actor}\\s+denied\\s+403\\s+GET /v1/tokens\\s+/v1/tokens\\s+needs admin$`),
    );

    const json = await env.run(["audit", "--json", "--resource", "/v1/namespaces/shop", "--since", "1h"]);
    const entries = JSON.parse(json.stdout).entries as { actor: string; outcome: string; resource: string }[];
    expect(entries.every((e) => e.resource.startsWith("/v1/namespaces/shop"))).toBe(true);
    expect(entries).toContainEqual(expect.objectContaining({ actor, outcome: "denied", statusCode: 403 }));
    // Nothing from the future.
    const future = await env.run(["audit", "--since", "2999-01-01", "--json"]);
    expect(JSON.parse(future.stdout).entries).toEqual([]);
  });

  it("pages with --limit and says how to continue", async () => {
    const r = await env.run(["audit", "--limit", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(2);
    const next = /more entries: run again with --after (\d+)/.exec(r.stderr);
    expect(next).not.toBeNull();
    const after = await env.run(["audit", "--limit", "1", "--after", next![1]!, "--json"]);
    expect(JSON.parse(after.stdout).entries[0].seq).toBeGreaterThan(Number(next![1]));
  });

  it("refuses bad audit filters as usage (exit 2)", async () => {
    for (const args of [
      ["audit", "--since", "last tuesday"],
      ["audit", "--outcome", "maybe"],
      ["audit", "--resource", "namespaces/shop"],
      ["audit", "--limit", "0"],
    ]) {
      const r = await env.run(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
    }
  });

  it("exports the audit log as JSON lines to a 0600 file, and to stdout with filters", async () => {
    const out = join(env.dir, "audit.jsonl");
    const r = await env.run(["audit", "export", "-o", "audit.jsonl"]);
    expect(r.code).toBe(0);
    const lines = (await readFile(out, "utf8")).trimEnd().split("\n");
    const entries = lines.map((l) => JSON.parse(l) as { seq: number; outcome: string });
    expect(entries.length).toBeGreaterThan(3);
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
    expect(r.stderr).toBe(`Exported ${entries.length} audit entries to audit.jsonl.\n`);
    expect((await stat(out)).mode & 0o777).toBe(0o600);

    // Filters given before or after `export`.
    for (const args of [
      ["audit", "export", "--outcome", "denied"],
      ["audit", "--outcome", "denied", "export"],
    ]) {
      const denied = await env.run(args);
      expect(denied.code).toBe(0);
      const rows = denied.stdout
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as { outcome: string });
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((e) => e.outcome === "denied")).toBe(true);
      expect(denied.stderr).toBe(`Exported ${rows.length} audit entries.\n`);
    }
  });

  it("keeps an existing file when the export is refused", async () => {
    const out = join(env.dir, "kept.jsonl");
    await writeFile(out, "old\n");
    const viewer = await env.registry.tokenFor(["viewer"], { name: "no-audit" });
    const r = await as(viewer, ["audit", "export", "-o", out]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("lacks the admin role");
    expect(await readFile(out, "utf8")).toBe("old\n");
    expect((await readdir(env.dir)).filter((f) => f.includes(".partial"))).toEqual([]);
  });

  it("says which token problem it is: none, unknown, expired", async () => {
    // No token anywhere: none in the environment, no config file that saved one.
    const none = await env.run(["ns", "list"], {
      env: { NEXUS_TOKEN: undefined, NEXUS_URL: env.url, NEXUS_CONFIG: join(env.dir, "none.json") },
    });
    expect(none.code).toBe(5);
    expect(none.stderr).toContain("error: the registry needs a token and none was given");
    expect(none.stderr).toContain("code unauthenticated, HTTP 401");

    const unknown = await as(`nxs_${"0".repeat(16)}_${"A".repeat(43)}`, ["ns", "list"]);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain("the registry does not know your token (from NEXUS_TOKEN)");

    const expiring = await env.registry.tokenFor(["viewer"], { name: "short", expiresInDays: 1 });
    await env.registry.db.pool.query(
      "UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1",
      [idOf(expiring)],
    );
    const expired = await as(expiring, ["ns", "list"]);
    expect(expired.code).toBe(5);
    expect(expired.stderr).toContain("error: your token (from NEXUS_TOKEN) has expired");
    expect(expired.stderr).toContain("code token_expired, HTTP 401");
    const check = await call(env.registry, "GET", `/v1/tokens/${idOf(expiring)}`);
    expect(check.body.status).toBe("expired");
  });
});

describe("too many invalid tokens (429)", () => {
  let env: CliEnvironment;
  beforeAll(async () => {
    env = await startCliEnvironment({
      registry: {
        failures: createFailedAuthLimiter({
          redis: null,
          keyPrefix: "cli-test:",
          maxFailures: 2,
          windowSeconds: 60,
        }),
      },
    });
  });
  afterAll(async () => env?.close());

  it("says how long to wait, exits 1, and gives scripts the seconds", async () => {
    const bad = { NEXUS_URL: env.url, NEXUS_TOKEN: `nxs_${"1".repeat(16)}_${"B".repeat(43)}` };
    for (let i = 0; i < 2; i++) expect((await env.run(["ns", "list"], { env: bad })).code).toBe(5);
    const limited = await env.run(["ns", "list"], { env: bad });
    expect(limited.code).toBe(1);
    expect(limited.stderr).toMatch(
      /error: too many invalid tokens came from this address; the registry refuses it for now: retry in (\d+) s/,
    );
    expect(limited.stderr).toContain("code too_many_failed_logins, HTTP 429");
    const json = await env.run(["ns", "list", "--json"], { env: bad });
    const { error } = JSON.parse(json.stderr);
    expect(error).toMatchObject({ code: "too_many_failed_logins", status: 429, exitCode: 1 });
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(60);
  });
});
