import { createHmac, timingSafeEqual } from "node:crypto";
import { verify as verifyGithub } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";
import type { GitProvider } from "./git-source-types.js";

type Headers = Record<string, string | string[] | undefined>;
const header = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The secrets one source verifies its webhooks with (plaintext, in memory only). */
export interface WebhookSecrets {
  webhookSecret: string | null;
  /** GitLab Standard Webhooks `whsec_...`. */
  signingSecret: string | null;
}

/** A refusal names the header that failed (the `field` of the 401). */
export type Verdict = { ok: true } | { ok: false; reason: string; field: string };

/** What a delivery says about itself before its body is trusted. */
export interface DeliveryHeaders {
  event: string | null;
  deliveryId: string | null;
  /** Whether this provider's event name means a branch push. */
  isPush: boolean;
  isPing: boolean;
}

export function deliveryHeaders(provider: GitProvider, h: Headers): DeliveryHeaders {
  switch (provider) {
    case "github": {
      const event = header(h, "x-github-event") ?? null;
      return {
        event,
        deliveryId: header(h, "x-github-delivery") ?? null,
        isPush: event === "push",
        isPing: event === "ping",
      };
    }
    case "gitlab": {
      const event = header(h, "x-gitlab-event") ?? null;
      const deliveryId =
        header(h, "webhook-id") ??
        header(h, "x-gitlab-event-uuid") ??
        header(h, "x-gitlab-webhook-uuid") ??
        null;
      return { event, deliveryId, isPush: event === "Push Hook", isPing: false };
    }
    case "gitea": {
      const event = header(h, "x-gitea-event") ?? null;
      return {
        event,
        deliveryId: header(h, "x-gitea-delivery") ?? null,
        isPush: event === "push",
        isPing: false,
      };
    }
    case "bitbucket": {
      const event = header(h, "x-event-key") ?? null;
      return {
        event,
        deliveryId: header(h, "x-request-uuid") ?? null,
        isPush: event === "repo:push",
        isPing: event === "diagnostics:ping",
      };
    }
  }
}

function hmacHexEquals(secret: string, raw: Buffer, given: string): boolean {
  const expected = Buffer.from(createHmac("sha256", secret).update(raw).digest("hex"), "utf8");
  // Exactly what the forges send (lower-case hex): another spelling is not their signature.
  const actual = Buffer.from(given, "utf8");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function constantTimeEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  // Compare equal-length buffers so the time does not tell the length of the secret's prefix.
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Check a delivery's signature over the raw bytes, with one source's secrets. `nowSeconds` and
 * `toleranceSeconds` refuse a signed timestamp that is too old (Standard Webhooks).
 */
export async function verifyDelivery(
  provider: GitProvider,
  raw: Buffer,
  h: Headers,
  secrets: WebhookSecrets,
  clock: { nowSeconds: number; toleranceSeconds: number },
): Promise<Verdict> {
  const secret = secrets.webhookSecret;
  switch (provider) {
    case "github": {
      const signature = header(h, "x-hub-signature-256");
      if (!signature)
        return { ok: false, reason: "no X-Hub-Signature-256 header", field: "x-hub-signature-256" };
      if (!secret)
        return { ok: false, reason: "the source has no webhook secret", field: "x-hub-signature-256" };
      const valid = await verifyGithub(secret, raw.toString("utf8"), signature).catch(() => false);
      return valid
        ? { ok: true }
        : { ok: false, reason: "X-Hub-Signature-256 does not match", field: "x-hub-signature-256" };
    }
    case "gitlab": {
      if (secrets.signingSecret) {
        const id = header(h, "webhook-id");
        const timestamp = header(h, "webhook-timestamp");
        const signature = header(h, "webhook-signature");
        if (!id || !timestamp || !signature)
          return { ok: false, reason: "no Standard Webhooks signature headers", field: "webhook-signature" };
        const age = clock.nowSeconds - Number(timestamp);
        if (!Number.isFinite(age) || Math.abs(age) > clock.toleranceSeconds)
          return {
            ok: false,
            reason: "webhook-timestamp is outside the tolerance window",
            field: "webhook-timestamp",
          };
        try {
          new Webhook(secrets.signingSecret).verify(raw, {
            "webhook-id": id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signature,
          });
        } catch {
          return { ok: false, reason: "webhook-signature does not match", field: "webhook-signature" };
        }
        if (!secret) return { ok: true };
      }
      const token = header(h, "x-gitlab-token");
      if (!token) return { ok: false, reason: "no X-Gitlab-Token header", field: "x-gitlab-token" };
      if (!secret) return { ok: false, reason: "the source has no webhook secret", field: "x-gitlab-token" };
      return constantTimeEquals(token, secret)
        ? { ok: true }
        : { ok: false, reason: "X-Gitlab-Token does not match", field: "x-gitlab-token" };
    }
    case "gitea": {
      const signature = header(h, "x-gitea-signature");
      if (!signature) return { ok: false, reason: "no X-Gitea-Signature header", field: "x-gitea-signature" };
      if (!secret)
        return { ok: false, reason: "the source has no webhook secret", field: "x-gitea-signature" };
      return hmacHexEquals(secret, raw, signature)
        ? { ok: true }
        : { ok: false, reason: "X-Gitea-Signature does not match", field: "x-gitea-signature" };
    }
    case "bitbucket": {
      const signature = header(h, "x-hub-signature");
      if (!signature?.startsWith("sha256="))
        return { ok: false, reason: "no sha256 X-Hub-Signature header", field: "x-hub-signature" };
      if (!secret) return { ok: false, reason: "the source has no webhook secret", field: "x-hub-signature" };
      return hmacHexEquals(secret, raw, signature.slice("sha256=".length))
        ? { ok: true }
        : { ok: false, reason: "X-Hub-Signature does not match", field: "x-hub-signature" };
    }
  }
}

/** A branch push as one provider describes it; null fields were missing. */
export interface PushInfo {
  repository: string;
  ref: string;
  before: string;
  after: string;
  /** Null: the provider did not list every file (Bitbucket never does; long pushes are truncated). */
  changedFiles: string[] | null;
  /** The branch was deleted: nothing to import. */
  deleted: boolean;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const ZERO = /^0+$/;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

function filesOfCommits(commits: unknown, complete: boolean): string[] | null {
  if (!Array.isArray(commits) || !complete) return null;
  const files = new Set<string>();
  for (const c of commits) {
    const commit = obj(c);
    if (!commit) return null;
    for (const key of ["added", "modified", "removed"]) {
      const list = commit[key];
      if (!Array.isArray(list)) return null;
      for (const f of list) if (typeof f === "string") files.add(f);
    }
  }
  return [...files].sort();
}

/** The push in a provider's payload, or a reason it is malformed. */
export function pushOf(provider: GitProvider, payload: unknown): PushInfo | { malformed: string } {
  const p = obj(payload);
  if (!p) return { malformed: "the payload is not a JSON object" };
  if (provider === "bitbucket") {
    const repository = str(obj(p.repository)?.full_name);
    const changes = obj(p.push)?.changes;
    if (!repository || !Array.isArray(changes) || changes.length === 0)
      return { malformed: "needs repository.full_name and push.changes" };
    // One delivery can carry several branches; the last branch change is imported here (the
    // reconcile catches the others: Bitbucket lists no files, so every import reads all files).
    const change = obj(changes[changes.length - 1]);
    const next = obj(change?.new);
    const old = obj(change?.old);
    const name = str(next?.name) ?? str(old?.name);
    if (!name) return { malformed: "push.changes[].new.name is missing" };
    const after = str(obj(next?.target)?.hash);
    if (after !== undefined && !SHA.test(after))
      return { malformed: "push.changes[].new.target.hash is not a commit id" };
    return {
      repository,
      ref: `refs/heads/${name}`,
      before: str(obj(old?.target)?.hash) ?? "0".repeat(40),
      after: after ?? "0".repeat(40),
      changedFiles: null,
      deleted: next === undefined || str(next?.type) !== "branch" || after === undefined,
    };
  }
  const repository =
    provider === "gitlab" ? str(obj(p.project)?.path_with_namespace) : str(obj(p.repository)?.full_name);
  const ref = str(p.ref);
  const before = str(p.before);
  const after = str(p.after);
  if (!repository || !ref || before === undefined || !after)
    return { malformed: "needs repository, ref, before and after" };
  if (!SHA.test(after)) return { malformed: "`after` is not a commit id" };
  const commits = p.commits;
  const complete =
    provider === "gitlab"
      ? Array.isArray(commits) && commits.length === Number(p.total_commits_count ?? commits.length)
      : Array.isArray(commits) && commits.length < 2048;
  return {
    repository,
    ref,
    before,
    after,
    changedFiles: filesOfCommits(commits, complete),
    deleted: ZERO.test(after) || p.deleted === true,
  };
}
