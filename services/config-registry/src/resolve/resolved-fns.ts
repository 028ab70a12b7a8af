/** Cross-namespace references look like `${ref:<namespace>:<path>}` or `${secret:<namespace>:<path>}`. */
const CROSS_NAMESPACE_REF = /\$\{(?:ref|secret):([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?):/g;

/**
 * Namespaces a document may read, found by a cheap scan of its JSON text. It may over-report
 * (an escaped `$${ref:...}`); that only loads a namespace that resolution then ignores.
 */
export function referencedNamespaces(content: unknown): string[] {
  const frozen = typeof content === "object" && content !== null && Object.isFrozen(content);
  const memo = frozen ? referencesOfFrozen.get(content) : undefined;
  if (memo) return memo;
  const text = JSON.stringify(content);
  const found = new Set<string>();
  for (const m of text.matchAll(CROSS_NAMESPACE_REF)) found.add(m[1]!);
  const namespaces = [...found];
  // A frozen document (one kept between writes) cannot change: scanned once.
  if (frozen) referencesOfFrozen.set(content, namespaces);
  return namespaces;
}
const referencesOfFrozen = new WeakMap<object, string[]>();

/**
 * The response body of a resolved read, built once at write time. `canonical` is the canonical
 * JSON of the content, so the bytes are stable whichever store serves them.
 */
export function renderResolvedBody(r: {
  namespace: string;
  environment: string;
  revision: number;
  hash: string;
  canonical: string;
  /** Pointer → digest of each secret (documents with secrets only): what the hash covers there. */
  secretDigests?: Record<string, string> | undefined;
}): string {
  const secrets = r.secretDigests ? `"secretDigests":${JSON.stringify(r.secretDigests)},` : "";
  return `{"namespace":${JSON.stringify(r.namespace)},"environment":${JSON.stringify(r.environment)},"revision":${r.revision},"hash":"${r.hash}",${secrets}"content":${r.canonical}}`;
}

/**
 * Does a rendered body hold secrets? `secretDigests` comes right after the hash, before any
 * content, so this looks at a fixed place instead of scanning the document.
 */
export function bodyHoldsSecrets(body: string, hash: string): boolean {
  const at = body.indexOf(`"hash":"${hash}",`);
  return at >= 0 && body.startsWith('"secretDigests":', at + hash.length + 10);
}
