import type { ResolvedHead } from "./resolve-types.js";

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

type Ordered = Pick<ResolvedHead, "revision" | "version">;

/**
 * Was `held` committed after `incoming`? By commit version when both have one (a re-resolution
 * keeps the revision but gets a new version); by revision otherwise (an entry of an older
 * instance, written before versions existed).
 */
export function committedLater(held: Ordered, incoming: Ordered): boolean {
  if (held.version !== undefined && incoming.version !== undefined) return held.version > incoming.version;
  return held.revision > incoming.revision;
}

/** The Redis form: `"<revision>:<version> <hash> <body>"`; a hit costs two indexOf calls, no JSON parse. */
export function encodeCachedHead(h: ResolvedHead): string {
  return `${h.revision}:${h.version ?? 0} ${h.hash} ${h.body}`;
}

/** `encodeCachedHead` back; also reads `"<revision> <hash> <body>"` (no version) of older instances. */
export function decodeCachedHead(namespace: string, environment: string, raw: string): ResolvedHead | null {
  const a = raw.indexOf(" ");
  const b = raw.indexOf(" ", a + 1);
  if (a < 0 || b < 0) return null;
  const order = raw.slice(0, a);
  const colon = order.indexOf(":");
  const revision = Number(colon < 0 ? order : order.slice(0, colon));
  const version = colon < 0 ? undefined : Number(order.slice(colon + 1));
  if (!Number.isInteger(revision) || (version !== undefined && !Number.isInteger(version))) return null;
  return {
    namespace,
    environment,
    revision,
    hash: raw.slice(a + 1, b),
    body: raw.slice(b + 1),
    ...(version ? { version } : {}),
  };
}
