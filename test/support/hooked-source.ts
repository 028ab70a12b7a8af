import { expect } from "vitest";
import {
  deliver,
  importsOf,
  waitForImports,
} from "../../services/config-registry/test/integration/git-helpers.js";
import { createGitRepo, type GitRepo } from "../../services/config-registry/test/integration/git-repo.js";
import type { Delivery, Push } from "../../services/config-registry/test/integration/git-webhooks.js";
import {
  call,
  type Harness,
  startRegistry,
} from "../../services/config-registry/test/integration/harness.js";

/**
 * A registry with one Git source bound to a real local repository, for the webhook fault tests:
 * commit and push a change, then send the forge's delivery of that push in signed, forged and
 * replayed variants.
 */
export interface HookedSource {
  h: Harness;
  repo: GitRepo;
  provider: string;
  /** The source's name. */
  name: string;
  /** Commit a staging change and push it to main: the push the deliveries describe. */
  pushChange(pool: number): Promise<Push>;
  close(): Promise<void>;
}

export const NAMESPACE = "hooked";
/** The file the source's staging layer follows. */
export const STAGING_FILE = `config/${NAMESPACE}/staging.yaml`;

type SourceOptions = {
  provider: "github" | "gitlab" | "gitea" | "bitbucket";
  repository: string;
  webhookSecret: string;
  signingSecret?: string;
};

/** The POST /v1/git-sources body binding the namespace's staging layer to main of `repo`. */
export const hookedSourceBody = (opts: SourceOptions, name: string, repo: GitRepo) => ({
  name,
  provider: opts.provider,
  url: repo.url,
  repository: opts.repository,
  namespaces: [NAMESPACE],
  environments: { staging: "main" },
  webhookSecret: opts.webhookSecret,
  ...(opts.signingSecret ? { signingSecret: opts.signingSecret } : {}),
});

/** Commit `pool: <pool>` to the staging file and push it to main: the push a delivery describes. */
export async function pushPoolChange(repo: GitRepo, repository: string, pool: number): Promise<Push> {
  const message = `pool ${pool}`;
  const after = await repo.commit({ [STAGING_FILE]: `pool: ${pool}\n` }, message);
  const { before } = await repo.push("main");
  return {
    repository,
    branch: "main",
    before,
    after,
    commits: [{ id: after, message, modified: [STAGING_FILE] }],
  };
}

export async function startHookedSource(opts: SourceOptions): Promise<HookedSource> {
  const [h, repo] = await Promise.all([startRegistry(), createGitRepo()]);
  const name = `faults-${opts.provider}`;
  expect((await call(h, "POST", "/v1/namespaces", { name: NAMESPACE })).status).toBe(201);
  const source = await call(h, "POST", "/v1/git-sources", hookedSourceBody(opts, name, repo));
  expect(source.status, JSON.stringify(source.body)).toBe(201);
  return {
    h,
    repo,
    provider: opts.provider,
    name,
    pushChange: (pool) => pushPoolChange(repo, opts.repository, pool),
    async close() {
      await h.close();
      await repo.cleanup();
    },
  };
}

/** A forged or tampered delivery and the header its refusal must name. */
export type Variant = [name: string, delivery: Delivery, field: string];

export interface VariantOutcome {
  refused: number;
  replays: number;
}

/**
 * Every variant is refused 401 naming its header, nothing is recorded for them; then the good
 * delivery is accepted once and its replays answer 200 duplicate: one import, one revision.
 */
export async function checkSignatureVariants(
  s: HookedSource,
  good: Delivery,
  variants: Variant[],
): Promise<VariantOutcome> {
  const wrong: string[] = [];
  for (const [name, d, field] of variants) {
    const answer = await deliver(s.h, s.provider, d);
    const error = answer.body?.error;
    if (answer.status !== 401 || error?.code !== "webhook_signature_invalid" || error.field !== field)
      wrong.push(`${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  expect(wrong).toEqual([]);
  const rows = await s.h.db.pool.query("SELECT count(*)::int AS n FROM config_registry.git_deliveries");
  expect(rows.rows[0].n).toBe(0);
  expect(await importsOf(s.h, s.name)).toEqual([]);

  // The real delivery, then the same delivery again (a forge's redelivery, or an attacker replaying it).
  expect((await deliver(s.h, s.provider, good)).status).toBe(202);
  await waitForImports(s.h, s.name, 1);
  const replays = await Promise.all([1, 2, 3].map(() => deliver(s.h, s.provider, good)));
  expect(replays.map((r) => [r.status, r.body?.status])).toEqual([
    [200, "duplicate"],
    [200, "duplicate"],
    [200, "duplicate"],
  ]);
  // A replay would have published git.pushed again: give such an import time to show up.
  await new Promise((r) => setTimeout(r, 500));
  expect((await importsOf(s.h, s.name)).map((i) => i.status)).toEqual(["applied"]);
  const revisions = await call(s.h, "GET", `/v1/namespaces/${NAMESPACE}/layers/staging/revisions`);
  expect(revisions.body.items).toHaveLength(1);
  return { refused: variants.length, replays: replays.length };
}

/** The delivery with some headers dropped, others set. */
export function withHeaders(d: Delivery, set: Record<string, string>, drop: string[] = []): Delivery {
  const kept = Object.entries(d.headers).filter(([k]) => !drop.includes(k));
  return { ...d, headers: { ...Object.fromEntries(kept), ...set } };
}
