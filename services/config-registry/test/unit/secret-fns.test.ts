import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseContent } from "../../src/documents/content-fns.js";
import { canonicalJson, contentHash, diffDocuments } from "../../src/documents/document-fns.js";
import { bodyHoldsSecrets, renderResolvedBody } from "../../src/resolve/resolved-fns.js";
import {
  decryptSecret,
  encryptSecret,
  keyringOf,
  parseMasterKeys,
  secretDigest,
  toDataKey,
  unwrapDataKey,
  wrapDataKey,
} from "../../src/secrets/secret-crypto-fns.js";
import {
  comparableFormOf,
  comparableFromRedacted,
  hashFormOf,
  mayHoldSecrets,
  redactDiff,
  redactSecrets,
  secretDigestsOf,
} from "../../src/secrets/secret-doc-fns.js";
import { resolvedSecretForms, violationsOfSecrets } from "../../src/secrets/secret-resolve-fns.js";
import { failure, resolve } from "./resolve-helpers.js";

const b64 = (n = 32) => randomBytes(n).toString("base64");
const sealed = (digest: string, key = 1, ct = "Y3Q=") => ({ $secret: { v: 1, key, ct, digest } });

describe("master keys from the environment", () => {
  it("parses kid:base64 pairs and names problems without the values", () => {
    const secretLooking = b64(16);
    const { keys, problems } = parseMasterKeys(`a:${b64()}, b:${secretLooking}, :${b64()}, a:${b64()}`);
    expect([...keys.keys()]).toEqual(["a"]);
    expect(problems).toHaveLength(3);
    expect(problems.join(" ")).not.toContain(secretLooking);
    expect(problems[0]).toContain('key "b" is not 32 bytes');
  });

  it("needs an active key among them, unless there is exactly one", () => {
    expect(keyringOf(`k1:${b64()}`, undefined).keyring?.activeKeyId).toBe("k1");
    expect(keyringOf(`k1:${b64()},k2:${b64()}`, undefined).problems[0]!.variable).toBe(
      "SECRETS_ACTIVE_KEY_ID",
    );
    expect(keyringOf(`k1:${b64()}`, "k9").problems[0]!.message).toContain("not in SECRETS_MASTER_KEYS");
    expect(keyringOf(undefined, undefined)).toEqual({ keyring: null, problems: [] });
    expect(keyringOf(undefined, "k1").problems).toHaveLength(1);
  });
});

describe("envelope encryption", () => {
  const master = randomBytes(32);
  const material = randomBytes(32);

  it("wraps a data key bound to its namespace and id", () => {
    const wrapped = wrapDataKey(master, "payments", 7, material);
    expect(unwrapDataKey(master, "payments", 7, wrapped)).toEqual(material);
    expect(unwrapDataKey(master, "payments", 8, wrapped)).toBeNull();
    expect(unwrapDataKey(master, "orders", 7, wrapped)).toBeNull();
    expect(unwrapDataKey(randomBytes(32), "payments", 7, wrapped)).toBeNull();
  });

  it("encrypts a value that only its namespace and data key decrypt, and any changed byte fails", () => {
    const key = toDataKey("payments", 7, material);
    const ct = encryptSecret(key, "s3cr3t");
    expect(decryptSecret(key, "payments", ct)).toBe("s3cr3t");
    expect(decryptSecret(key, "orders", ct)).toBeNull();
    const raw = Buffer.from(ct, "base64");
    for (const at of [0, 12, raw.length - 1]) {
      const flipped = Buffer.from(raw);
      flipped[at]! ^= 1;
      expect(decryptSecret(key, "payments", flipped.toString("base64"))).toBeNull();
    }
    expect(encryptSecret(key, "s3cr3t")).not.toBe(ct); // random IV
  });

  it("digests equal values equally within a data key, and differently across keys", () => {
    const key = toDataKey("payments", 7, material);
    expect(secretDigest(key, "a")).toBe(secretDigest(key, "a"));
    expect(secretDigest(key, "a")).not.toBe(secretDigest(key, "b"));
    expect(secretDigest(toDataKey("payments", 8, randomBytes(32)), "a")).not.toBe(secretDigest(key, "a"));
  });
});

describe("documents with secrets", () => {
  const doc = { db: { host: "h", password: sealed("d1") }, list: [sealed("d2")] };

  it("detects the $secret key from canonical text only", () => {
    expect(mayHoldSecrets(canonicalJson(doc))).toBe(true);
    expect(mayHoldSecrets(canonicalJson({ note: '"$secret": 1', $secrets: 1 }))).toBe(false);
  });

  it("redacts, hashes over digests, and lists digests by pointer", () => {
    expect(redactSecrets(doc)).toEqual({ db: { host: "h", password: "***" }, list: ["***"] });
    expect(hashFormOf(doc)).toEqual({
      db: { host: "h", password: { $secret: { digest: "d1" } } },
      list: [{ $secret: { digest: "d2" } }],
    });
    expect(secretDigestsOf(doc)).toEqual({ "/db/password": "d1", "/list/0": "d2" });
    // The same value re-encrypted (another ct) hashes the same; another value does not.
    const reencrypted = { ...doc, db: { host: "h", password: sealed("d1", 1, "b3RoZXI=") } };
    expect(contentHash(hashFormOf(reencrypted))).toBe(contentHash(hashFormOf(doc)));
    const changed = { ...doc, db: { host: "h", password: sealed("d3") } };
    expect(contentHash(hashFormOf(changed))).not.toBe(contentHash(hashFormOf(doc)));
  });

  it("shows a changed, added or removed secret as *** in diffs", () => {
    const before = { a: sealed("d1"), b: "plain" };
    const after = { a: sealed("d9", 2, "eA=="), b: sealed("d2"), c: { nested: sealed("d3") } };
    const ops = redactDiff(diffDocuments(before, after));
    expect(ops).toContainEqual({ op: "replace", path: "/a", value: "***" });
    expect(ops).toContainEqual({ op: "replace", path: "/b", value: "***" });
    expect(ops).toContainEqual({ op: "add", path: "/c", value: { nested: "***" } });
    expect(JSON.stringify(ops)).not.toMatch(/d9|eA==|\$secret/);
    expect(redactDiff(diffDocuments({ x: 1 }, { x: 2 }))).toEqual([{ op: "replace", path: "/x", value: 2 }]);
  });

  it("compares a stored body with a new resolution by digest", () => {
    const forms = resolvedSecretForms(doc);
    const body = renderResolvedBody({
      namespace: "n",
      environment: "e",
      revision: 1,
      hash: forms.hash,
      canonical: forms.canonical,
      secretDigests: forms.secretDigests,
    });
    expect(body).not.toContain("Y3Q=");
    expect(bodyHoldsSecrets(body, forms.hash)).toBe(true);
    expect(
      bodyHoldsSecrets(
        renderResolvedBody({
          namespace: "n",
          environment: "e",
          revision: 1,
          hash: "h",
          canonical: '{"secretDigests":{}}',
        }),
        "h",
      ),
    ).toBe(false);
    const parsed = JSON.parse(body);
    expect(comparableFromRedacted(parsed.content, parsed.secretDigests)).toEqual(comparableFormOf(doc));
  });

  it("keeps schema messages about secrets free of their values", () => {
    const out = violationsOfSecrets(
      [
        { pointer: "/db/password", message: 'must match pattern "^x"', keyword: "pattern" },
        { pointer: "/db/host", message: "must be integer", keyword: "type" },
      ],
      doc,
    );
    expect(out[0]!.message).toContain("not shown");
    expect(out[1]!.message).toBe("must be integer");
  });
});

describe("${secret:...} references", () => {
  const shared = { doc: { db: { password: sealed("d1"), host: "h" } } };

  it("resolves to the secret node, tagged with the namespace that sealed it", () => {
    const { value, dependencies } = resolve(
      { a: "${secret:shared:db.password}", b: "${secret:own}", own: sealed("d2") },
      { namespaces: { shared } },
    );
    expect(value.a).toEqual({ $secret: { v: 1, key: 1, ct: "Y3Q=", digest: "d1", ns: "shared" } });
    expect(value.b).toEqual({ $secret: { v: 1, key: 1, ct: "Y3Q=", digest: "d2", ns: "app" } });
    expect(value.own).toEqual(value.b);
    expect(dependencies).toEqual(["shared"]);
  });

  it("refuses a target that is not a secret, a secret inside a longer string, and paths into a secret", () => {
    expect(failure({ a: "${secret:shared:db.host}" }, { namespaces: { shared } }).code).toBe(
      "reference_not_secret",
    );
    expect(failure({ a: "pw=${secret:shared:db.password}" }, { namespaces: { shared } }).message).toContain(
      "is a secret, which cannot be embedded",
    );
    expect(failure({ a: "${ref:shared:db.password.$secret.ct}" }, { namespaces: { shared } }).code).toBe(
      "reference_missing",
    );
  });
});

describe("parse errors never quote the body", () => {
  it.each([
    '{"password": s3cr3t-value-here}',
    '{"a": {"$secret": "s3cr3t-value-here"} x}',
    "s3cr3t-value-here",
    '{"a": "s3cr3t-value-here\u0001"}',
  ])("%s", (body) => {
    let message = "";
    try {
      parseContent(body, "application/json");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("malformed JSON");
    expect(message).not.toContain("s3cr3t");
    expect(message).not.toContain("value-here");
  });
});
