import { deepFreeze } from "../documents/document-fns.js";
import { holdsSecrets } from "../secrets/secret-doc-fns.js";

type Json = Record<string, unknown>;

/** What this process holds of one namespace, keyed by `knownKey(name, hash)`. */
export interface KnownDocuments {
  /** Layer contents as stored, by layer name and hash. */
  layers: ReadonlyMap<string, Json>;
  /** Resolved documents in the form `changedPaths` compares, by environment and hash. */
  resolved: ReadonlyMap<string, Json>;
}

/** Names (layers, environments) never hold `:`; hashes are hex. */
export const knownKey = (name: string, hash: string) => `${name}:${hash}`;

/** Keys sent per layer or environment of a reader: the documents it most likely holds now. */
const NEWEST_PER_NAME = 1;

/**
 * The newest key (`NEWEST_PER_NAME`) per layer or environment (a map's order is the order they were
 * remembered in): what a reader's stored documents almost always are, since this process wrote
 * them last. Sending every key held (up to 16 each) made the readers' read parse ~1.3 KB of keys
 * per reader; a document whose key is not sent only comes back with its body.
 */
export function newestKeys(held: ReadonlyMap<string, unknown>): string[] {
  const keys = [...held.keys()];
  const perName = new Map<string, number>();
  const out: string[] = [];
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    const name = key.slice(0, key.indexOf(":"));
    const n = perName.get(name) ?? 0;
    if (n >= NEWEST_PER_NAME) continue;
    perName.set(name, n + 1);
    out.push(key);
  }
  return out;
}

/** Entries kept per namespace and kind: the current documents and the ones just before. */
const PER_NAMESPACE = 16;
const DEFAULT_NAMESPACES = 2_000;

/**
 * The documents of recently written namespaces, kept in this process so that a write's read
 * leaves out what is already here: a namespace's base content and resolved documents are a few KB
 * each, which Postgres had to serialise and this process to parse on every write. Keyed by hash,
 * so an entry is never wrong, at worst unused (a write refused after its resolution was kept).
 * Values are frozen: every write that reads them shares them. Layer contents with secrets are not
 * kept: their hash covers the secrets' digests, not the ciphertext stored with them, so the same
 * hash in a namespace deleted and created again would not mean the same stored content.
 */
export function createKnownDocuments(maxNamespaces = DEFAULT_NAMESPACES) {
  const namespaces = new Map<string, { layers: Map<string, Json>; resolved: Map<string, Json> }>();

  function entryOf(namespace: string) {
    let entry = namespaces.get(namespace);
    if (entry) {
      namespaces.delete(namespace); // re-inserted at the end: Map order is the eviction order
    } else {
      entry = { layers: new Map(), resolved: new Map() };
      if (namespaces.size >= maxNamespaces) namespaces.delete(namespaces.keys().next().value!);
    }
    namespaces.set(namespace, entry);
    return entry;
  }

  function put(map: Map<string, Json>, key: string, doc: Json): void {
    map.delete(key);
    map.set(key, deepFreeze(doc));
    if (map.size > PER_NAMESPACE) map.delete(map.keys().next().value!);
  }

  return {
    /** A copy of what is known of `namespace` now: it stays complete while the write awaits. */
    snapshot(namespace: string): KnownDocuments {
      const entry = namespaces.get(namespace);
      return { layers: new Map(entry?.layers), resolved: new Map(entry?.resolved) };
    },
    rememberLayer(namespace: string, layer: string, hash: string, content: Json): void {
      if (holdsSecrets(content)) return;
      put(entryOf(namespace).layers, knownKey(layer, hash), content);
    },
    rememberResolved(namespace: string, environment: string, hash: string, comparable: Json): void {
      put(entryOf(namespace).resolved, knownKey(environment, hash), comparable);
    },
    forget(namespace: string): void {
      namespaces.delete(namespace);
    },
  };
}
export type KnownDocumentsCache = ReturnType<typeof createKnownDocuments>;
