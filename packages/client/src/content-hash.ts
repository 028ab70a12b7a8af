import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/**
 * The registry's content hash: hex sha256 of the RFC 8785 canonical JSON of the resolved
 * content (same library as the registry). The client checks what it is about to run, from the
 * registry or from its cache file, against the hash it will report.
 *
 * A document with secrets comes with `secretDigests` (JSON pointer → keyed digest): the hash
 * covers `{"$secret":{"digest":…}}` at those places instead of the values (`"***"`, or the
 * plaintext for a secret-reader), which the client could not reproduce otherwise.
 */
export function contentHash(content: unknown, secretDigests?: Record<string, string>): string {
  const hashed =
    secretDigests && Object.keys(secretDigests).length > 0 ? withDigests(content, secretDigests) : content;
  const canonical = canonicalize(hashed);
  if (canonical === undefined) throw new TypeError("value has no canonical JSON form");
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

function withDigests(content: unknown, digests: Record<string, string>): unknown {
  const copy = structuredClone(content);
  for (const [pointer, digest] of Object.entries(digests)) {
    const tokens = pointer
      .split("/")
      .slice(1)
      .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = tokens.pop();
    if (last === undefined) continue;
    let parent: unknown = copy;
    for (const t of tokens) parent = (parent as Record<string, unknown> | undefined)?.[t];
    if (parent !== null && typeof parent === "object" && Object.hasOwn(parent, last)) {
      (parent as Record<string, unknown>)[last] = { $secret: { digest } };
    }
  }
  return copy;
}
