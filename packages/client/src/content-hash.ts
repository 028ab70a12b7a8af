import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/**
 * The registry's content hash: hex sha256 of the RFC 8785 canonical JSON of the resolved
 * content (same library as the registry). The client checks what it is about to run, from the
 * registry or from its cache file, against the hash it will report.
 */
export function contentHash(content: unknown): string {
  const canonical = canonicalize(content);
  if (canonical === undefined) throw new TypeError("value has no canonical JSON form");
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}
