import { createHmac } from "node:crypto";
import { sign } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { deliveryHeaders, pushOf, verifyDelivery } from "../../src/git-sources/git-webhook-fns.js";

const body = Buffer.from('{"ref":"refs/heads/main"}');
const secrets = { webhookSecret: "s3cret-value", signingSecret: null };
const clock = { nowSeconds: Math.floor(Date.now() / 1000), toleranceSeconds: 300 };
const sha = "a".repeat(40);

describe("webhook signatures over the raw body", () => {
  it("GitHub: X-Hub-Signature-256", async () => {
    const good = { "x-hub-signature-256": await sign("s3cret-value", body.toString()) };
    expect(await verifyDelivery("github", body, good, secrets, clock)).toEqual({ ok: true });
    expect((await verifyDelivery("github", Buffer.from(`${body} `), good, secrets, clock)).ok).toBe(false);
    expect((await verifyDelivery("github", body, {}, secrets, clock)).ok).toBe(false);
  });

  it("Gitea (bare hex) and Bitbucket (sha256= prefix)", async () => {
    const hex = createHmac("sha256", "s3cret-value").update(body).digest("hex");
    expect((await verifyDelivery("gitea", body, { "x-gitea-signature": hex }, secrets, clock)).ok).toBe(true);
    expect(
      (await verifyDelivery("gitea", body, { "x-gitea-signature": hex.slice(1) }, secrets, clock)).ok,
    ).toBe(false);
    expect(
      (await verifyDelivery("bitbucket", body, { "x-hub-signature": `sha256=${hex}` }, secrets, clock)).ok,
    ).toBe(true);
    expect((await verifyDelivery("bitbucket", body, { "x-hub-signature": hex }, secrets, clock)).ok).toBe(
      false,
    );
  });

  it("GitLab: token, and Standard Webhooks within the tolerance", async () => {
    expect(
      (await verifyDelivery("gitlab", body, { "x-gitlab-token": "s3cret-value" }, secrets, clock)).ok,
    ).toBe(true);
    expect(
      (await verifyDelivery("gitlab", body, { "x-gitlab-token": "s3cret-valuf" }, secrets, clock)).ok,
    ).toBe(false);
    const signing = `whsec_${Buffer.from("0123456789abcdef0123456789abcdef").toString("base64")}`;
    const withSigning = { webhookSecret: null, signingSecret: signing };
    const at = new Date(clock.nowSeconds * 1000);
    const headers = (when: Date) => ({
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(when.getTime() / 1000)),
      "webhook-signature": new Webhook(signing).sign("msg_1", when, body),
    });
    expect((await verifyDelivery("gitlab", body, headers(at), withSigning, clock)).ok).toBe(true);
    const old = await verifyDelivery(
      "gitlab",
      body,
      headers(new Date(at.getTime() - 301_000)),
      withSigning,
      clock,
    );
    expect(old).toEqual({
      ok: false,
      reason: "webhook-timestamp is outside the tolerance window",
      field: "webhook-timestamp",
    });
  });
});

describe("push payloads", () => {
  it("collects changed files across commits, and gives up on a truncated GitLab list", () => {
    const push = pushOf("github", {
      ref: "refs/heads/main",
      before: "0".repeat(40),
      after: sha,
      repository: { full_name: "acme/config" },
      commits: [
        { added: ["a.yaml"], modified: [], removed: [] },
        { added: [], modified: ["b.yaml"], removed: ["a.yaml"] },
      ],
    });
    expect(push).toMatchObject({
      repository: "acme/config",
      changedFiles: ["a.yaml", "b.yaml"],
      deleted: false,
    });
    const gitlab = pushOf("gitlab", {
      ref: "refs/heads/main",
      before: sha,
      after: sha,
      project: { path_with_namespace: "g/c" },
      commits: [{ added: ["a"], modified: [], removed: [] }],
      total_commits_count: 25,
    });
    expect(gitlab).toMatchObject({ repository: "g/c", changedFiles: null });
  });

  it("reads Bitbucket changes and refuses malformed payloads", () => {
    const bb = pushOf("bitbucket", {
      repository: { full_name: "t/r" },
      push: { changes: [{ new: { type: "branch", name: "main", target: { hash: sha } }, old: null }] },
    });
    expect(bb).toMatchObject({ ref: "refs/heads/main", after: sha, changedFiles: null, deleted: false });
    expect(pushOf("github", [])).toHaveProperty("malformed");
    expect(
      pushOf("github", { ref: "x", before: "", after: "not-a-sha", repository: { full_name: "a/b" } }),
    ).toHaveProperty("malformed");
  });

  it("reads the event and delivery id from each provider's headers", () => {
    expect(deliveryHeaders("github", { "x-github-event": "ping", "x-github-delivery": "d1" })).toMatchObject({
      isPing: true,
      deliveryId: "d1",
    });
    expect(
      deliveryHeaders("gitlab", { "x-gitlab-event": "Push Hook", "x-gitlab-event-uuid": "u" }),
    ).toMatchObject({ isPush: true, deliveryId: "u" });
    expect(deliveryHeaders("bitbucket", { "x-event-key": "repo:push", "x-request-uuid": "r" })).toMatchObject(
      { isPush: true, deliveryId: "r" },
    );
  });
});
