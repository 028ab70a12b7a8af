import { createHmac, randomBytes } from "node:crypto";
import { afterAll, describe, it } from "vitest";
import {
  bitbucketPush,
  type Delivery,
  giteaPush,
  githubPush,
  gitlabPush,
} from "../../services/config-registry/test/integration/git-webhooks.js";
import {
  checkSignatureVariants,
  type HookedSource,
  startHookedSource,
  type Variant,
  withHeaders,
} from "../support/hooked-source.js";
import { recordFigure } from "./figures.js";

/**
 * Webhook signature variants and replays for every provider the registry takes webhooks from,
 * each against a registry with one source on a real local repository: missing, empty, wrong,
 * truncated, other-case and other-algorithm signatures, a body or a signed header changed after
 * signing, a Standard Webhooks timestamp outside the tolerance. Every one 401 naming the header
 * that failed, nothing recorded; the real delivery imported once however often it is replayed.
 */

const SECRET = "fault-suite-webhook-secret";
const hmac = (algo: string, secret: string, body: string, encoding: "hex" | "base64" = "hex") =>
  createHmac(algo, secret).update(body).digest(encoding);
/** The last character changed: a signature one digit off. */
const oneOff = (s: string) => `${s.slice(0, -1)}${s.endsWith("0") ? "1" : "0"}`;
const swapCase = (s: string) =>
  [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join("");
const tampered = (d: Delivery): Delivery => ({ ...d, body: d.body.replace('"pool 5"', '"pool 6"') });

const figures: string[] = [];
const started: HookedSource[] = [];
async function hooked(...args: Parameters<typeof startHookedSource>) {
  const s = await startHookedSource(...args);
  started.push(s);
  return s;
}

describe("webhook signature variants and replays, every provider", () => {
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()));
    if (figures.length === 0) return;
    await recordFigure({
      fault:
        "Git webhook signature variants and replays (GitHub, GitLab token and Standard Webhooks, Gitea, Bitbucket)",
      outcome: "every variant 401 naming the failing header, nothing stored; replays answer 200 duplicate",
      figure: `${figures.join("; ")}; each: 3 replays, 1 import, 1 revision`,
    });
  });

  it("GitHub (X-Hub-Signature-256)", async () => {
    const s = await hooked({ provider: "github", repository: "acme/faults", webhookSecret: SECRET });
    const good = await githubPush(await s.pushChange(5), SECRET);
    const sig = good.headers["x-hub-signature-256"]!;
    const field = "x-hub-signature-256";
    const set = (v: string) => withHeaders(good, { [field]: v });
    const variants: Variant[] = [
      ["no signature", withHeaders(good, {}, [field, "x-hub-signature"]), field],
      ["empty", set(""), field],
      ["wrong secret", set(`sha256=${hmac("sha256", "wrong", good.body)}`), field],
      ["truncated", set(sig.slice(0, 30)), field],
      ["one hex digit off", set(oneOff(sig)), field],
      ["other case", set(`sha256=${sig.slice(7).toUpperCase()}`), field],
      ["no sha256= prefix", set(sig.slice("sha256=".length)), field],
      ["sha1 only (X-Hub-Signature)", withHeaders(good, {}, [field]), field],
      ["sha512 in the sha256 header", set(`sha512=${hmac("sha512", SECRET, good.body)}`), field],
      ["md5 in the sha256 header", set(`md5=${hmac("md5", SECRET, good.body)}`), field],
      ["body changed after signing", tampered(good), field],
      ["body with a trailing space", { ...good, body: `${good.body} ` }, field],
      ["two signatures joined", set(`sha256=${hmac("sha256", "wrong", good.body)}, ${sig}`), field],
    ];
    const out = await checkSignatureVariants(s, good, variants);
    figures.push(`GitHub ${out.refused} refused`);
  }, 60_000);

  it("GitLab with X-Gitlab-Token only (the token signs nothing: a body change cannot be told)", async () => {
    const s = await hooked({ provider: "gitlab", repository: "acme/faults", webhookSecret: SECRET });
    const push = await s.pushChange(5);
    const good = gitlabPush(push, SECRET);
    const field = "x-gitlab-token";
    const set = (v: string) => withHeaders(good, { [field]: v });
    const variants: Variant[] = [
      ["no token", withHeaders(good, {}, [field]), field],
      ["empty token", set(""), field],
      ["wrong token", set("not-the-secret"), field],
      ["truncated token", set(SECRET.slice(0, -1)), field],
      ["token with a character more", set(`${SECRET}x`), field],
      ["other case", set(SECRET.toUpperCase()), field],
      ["an HMAC of the body instead of the token", set(`sha256=${hmac("sha256", SECRET, good.body)}`), field],
      [
        "Standard Webhooks headers instead of the token",
        withHeaders(gitlabPush(push, SECRET, { secret: `whsec_${randomBytes(24).toString("base64")}` }), {}, [
          field,
        ]),
        field,
      ],
    ];
    const out = await checkSignatureVariants(s, good, variants);
    figures.push(`GitLab token ${out.refused} refused`);
  }, 60_000);

  it("GitLab with Standard Webhooks signing (whsec_) and its token", async () => {
    const signing = `whsec_${randomBytes(24).toString("base64")}`;
    const s = await hooked({
      provider: "gitlab",
      repository: "acme/faults",
      webhookSecret: SECRET,
      signingSecret: signing,
    });
    const push = await s.pushChange(5);
    const good = gitlabPush(push, SECRET, { secret: signing });
    const sig = good.headers["webhook-signature"]!;
    const b64 = sig.slice("v1,".length);
    const ts = Number(good.headers["webhook-timestamp"]);
    const signed = "webhook-signature";
    const set = (h: Record<string, string>) => withHeaders(good, h);
    const over = (seconds: number) =>
      gitlabPush(push, SECRET, { secret: signing, timestamp: new Date(Date.now() + seconds * 1000) });
    const signedContent = `${good.headers["webhook-id"]}.${ts}.${good.body}`;
    const signingKey = Buffer.from(signing.slice("whsec_".length), "base64");
    const variants: Variant[] = [
      ["no signature headers", withHeaders(good, {}, ["webhook-id", "webhook-timestamp", signed]), signed],
      ["no webhook-signature", withHeaders(good, {}, [signed]), signed],
      ["empty webhook-signature", set({ [signed]: "" }), signed],
      [
        "signed with another secret",
        gitlabPush(push, SECRET, { secret: `whsec_${randomBytes(24).toString("base64")}` }),
        signed,
      ],
      ["truncated", set({ [signed]: sig.slice(0, -6) }), signed],
      ["one character off", set({ [signed]: oneOff(sig) }), signed],
      ["other case", set({ [signed]: `v1,${swapCase(b64)}` }), signed],
      ["another version tag (v1a)", set({ [signed]: `v1a,${b64}` }), signed],
      [
        "HMAC-SHA512 under v1",
        set({ [signed]: `v1,${createHmac("sha512", signingKey).update(signedContent).digest("base64")}` }),
        signed,
      ],
      ["body changed after signing", tampered(good), signed],
      [
        "webhook-id changed after signing (a replay under a fresh id)",
        set({ "webhook-id": "msg_other" }),
        signed,
      ],
      ["timestamp moved 10 s after signing", set({ "webhook-timestamp": String(ts + 10) }), signed],
      ["timestamp an hour old", over(-3600), "webhook-timestamp"],
      ["timestamp an hour ahead", over(3600), "webhook-timestamp"],
      ["timestamp not a number", set({ "webhook-timestamp": "yesterday" }), "webhook-timestamp"],
      ["signed right, wrong token", set({ "x-gitlab-token": "not-the-secret" }), "x-gitlab-token"],
      ["signed right, no token", withHeaders(good, {}, ["x-gitlab-token"]), "x-gitlab-token"],
    ];
    const out = await checkSignatureVariants(s, good, variants);
    figures.push(`GitLab Standard Webhooks ${out.refused} refused`);
  }, 60_000);

  it("Gitea (X-Gitea-Signature)", async () => {
    const s = await hooked({ provider: "gitea", repository: "acme/faults", webhookSecret: SECRET });
    const good = giteaPush(await s.pushChange(5), SECRET);
    const sig = good.headers["x-gitea-signature"]!;
    const field = "x-gitea-signature";
    const set = (v: string) => withHeaders(good, { [field]: v });
    const variants: Variant[] = [
      ["no signature (GitHub's and Gogs' headers only)", withHeaders(good, {}, [field]), field],
      ["empty", set(""), field],
      ["wrong secret", set(hmac("sha256", "wrong", good.body)), field],
      ["truncated", set(sig.slice(0, 40)), field],
      ["one hex digit off", set(oneOff(sig)), field],
      ["other case", set(sig.toUpperCase()), field],
      ["sha256= prefixed", set(`sha256=${sig}`), field],
      ["HMAC-SHA1", set(hmac("sha1", SECRET, good.body)), field],
      ["HMAC-SHA512", set(hmac("sha512", SECRET, good.body)), field],
      ["base64 instead of hex", set(hmac("sha256", SECRET, good.body, "base64")), field],
      ["body changed after signing", tampered(good), field],
    ];
    const out = await checkSignatureVariants(s, good, variants);
    figures.push(`Gitea ${out.refused} refused`);
  }, 60_000);

  it("Bitbucket (X-Hub-Signature: sha256=)", async () => {
    const s = await hooked({ provider: "bitbucket", repository: "acme/faults", webhookSecret: SECRET });
    const good = bitbucketPush(await s.pushChange(5), SECRET);
    const sig = good.headers["x-hub-signature"]!;
    const field = "x-hub-signature";
    const set = (v: string) => withHeaders(good, { [field]: v });
    const variants: Variant[] = [
      ["no signature", withHeaders(good, {}, [field]), field],
      ["empty", set(""), field],
      ["wrong secret", set(`sha256=${hmac("sha256", "wrong", good.body)}`), field],
      ["truncated", set(sig.slice(0, 30)), field],
      ["one hex digit off", set(oneOff(sig)), field],
      ["other case", set(`sha256=${sig.slice(7).toUpperCase()}`), field],
      ["no sha256= prefix", set(sig.slice("sha256=".length)), field],
      ["sha1", set(`sha1=${hmac("sha1", SECRET, good.body)}`), field],
      ["sha512 under sha256=", set(`sha256=${hmac("sha512", SECRET, good.body)}`), field],
      ["body changed after signing", tampered(good), field],
    ];
    const out = await checkSignatureVariants(s, good, variants);
    figures.push(`Bitbucket ${out.refused} refused`);
  }, 60_000);
});
