import {
  AppError,
  BadRequestError,
  type Logger,
  type Pool,
  type Queryable,
  ServiceUnavailableError,
} from "@nexus/kit";
import type { JsonObject } from "../documents/document-fns.js";
import {
  type DataKey,
  decryptSecret,
  encryptSecret,
  type Keyring,
  newDataKeyMaterial,
  secretDigest,
  toDataKey,
  unwrapDataKey,
  wrapDataKey,
} from "./secret-crypto-fns.js";
import {
  mapSecrets,
  plaintextOf,
  REDACTED,
  type SealedSecret,
  sealedNode,
  sealedOf,
  secretPointers,
} from "./secret-doc-fns.js";
import type { SecretStore, WrappedDataKey } from "./secret-store.js";
import type { RevealSecrets, RotationReport } from "./secret-types.js";

export interface SecretServiceDeps {
  pool: Pool;
  store: SecretStore;
  /** Null: no master key configured; secrets can be redacted but not written or revealed. */
  keyring: Keyring | null;
  logger: Logger;
}

/** Unwrapped data keys held at most (32 bytes each, plus the derived digest key). */
const DATA_KEY_CACHE = 10_000;
const ROTATION_BATCH = 100;

export interface SealOptions {
  /** Sealed nodes the caller may keep: those of the layer's current head (a PATCH keeps them). */
  trusted?: JsonObject | undefined;
  /** Content read back from this namespace's own history (rollback): its sealed nodes are kept. */
  fromHistory?: boolean;
}

const secretInvalid = (pointer: string, why: string) =>
  new BadRequestError(
    "secret_invalid",
    `the secret at ${pointer || "the root"} ${why}; write a secret as {"$secret": "<value>"}`,
    { field: pointer },
  );

export function createSecretService(deps: SecretServiceDeps) {
  const { keyring, store } = deps;
  // Data keys by global id: an id names one data key forever, so an entry never goes stale
  // (rotation re-wraps the same key).
  const dataKeys = new Map<number, DataKey>();

  function requireKeyring(): Keyring {
    if (!keyring) {
      throw new ServiceUnavailableError(
        "secrets_not_configured",
        "This registry has no master key (SECRETS_MASTER_KEYS), so it cannot store or reveal secrets",
      );
    }
    return keyring;
  }

  function unwrap(row: WrappedDataKey): DataKey {
    const master = requireKeyring().keys.get(row.masterKeyId);
    if (!master) {
      throw new AppError(
        500,
        "secret_master_key_missing",
        `The data key of namespace ${row.namespace} is wrapped by master key "${row.masterKeyId}", which is not in SECRETS_MASTER_KEYS`,
      );
    }
    const key = unwrapDataKey(master, row.namespace, row.id, row.wrappedKey);
    if (!key) {
      throw new AppError(
        500,
        "secret_key_undecryptable",
        `The data key ${row.id} of namespace ${row.namespace} cannot be unwrapped with master key "${row.masterKeyId}" (changed, or moved from another row)`,
      );
    }
    const dataKey = toDataKey(row.namespace, row.id, key);
    if (dataKeys.size >= DATA_KEY_CACHE) dataKeys.delete(dataKeys.keys().next().value!);
    dataKeys.set(row.id, dataKey);
    return dataKey;
  }

  async function loadKeys(q: Queryable, ids: Iterable<number>): Promise<Map<number, DataKey>> {
    const out = new Map<number, DataKey>();
    const missing: number[] = [];
    for (const id of new Set(ids)) {
      const cached = dataKeys.get(id);
      if (cached) out.set(id, cached);
      else missing.push(id);
    }
    if (missing.length > 0) for (const row of await store.findByIds(q, missing)) out.set(row.id, unwrap(row));
    return out;
  }

  /** The namespace's newest data key, created (wrapped by the active master key) on first use. */
  async function activeKey(q: Queryable, namespace: string): Promise<DataKey> {
    const ring = requireKeyring();
    const found = await store.findActive(q, namespace);
    if (found) return dataKeys.get(found.id) ?? unwrap(found);
    const id = await store.nextId(q);
    const material = newDataKeyMaterial();
    const master = ring.keys.get(ring.activeKeyId)!;
    await store.insert(q, {
      id,
      namespace,
      masterKeyId: ring.activeKeyId,
      wrappedKey: wrapDataKey(master, namespace, id, material),
    });
    deps.logger.info(
      { namespace, dataKeyId: id, masterKeyId: ring.activeKeyId },
      "created the data key for secrets of a namespace",
    );
    const dataKey = toDataKey(namespace, id, material);
    dataKeys.set(id, dataKey);
    return dataKey;
  }

  function undecryptable(namespace: string, pointer: string, why: string): AppError {
    return new AppError(
      500,
      "secret_undecryptable",
      `The secret at ${pointer || "the root"} of namespace ${namespace} cannot be decrypted: ${why}`,
      { field: pointer },
    );
  }

  function decryptNode(
    keys: Map<number, DataKey>,
    sealed: SealedSecret,
    namespace: string,
    pointer: string,
  ): string {
    const key = keys.get(sealed.key);
    if (!key) throw undecryptable(namespace, pointer, `its data key ${sealed.key} does not exist`);
    if (key.namespace !== namespace)
      throw undecryptable(namespace, pointer, "it was encrypted for another namespace");
    const plaintext = decryptSecret(key, namespace, sealed.ct);
    if (plaintext === null)
      throw undecryptable(namespace, pointer, "its ciphertext was changed, or it was moved from elsewhere");
    return plaintext;
  }

  /**
   * Plaintext or `"***"` for every secret of a stored document. `namespace`: the namespace whose
   * layer holds the document (layers, revisions); omitted for resolved documents, whose nodes
   * carry theirs.
   */
  async function reveal<T>(q: Queryable, doc: T, reveal: RevealSecrets, namespace?: string): Promise<T> {
    const allowed = (ns: string) => (typeof reveal === "function" ? reveal(ns) : reveal);
    const wanted: number[] = [];
    mapSecrets(doc, (node) => {
      const sealed = sealedOf(node);
      const ns = namespace ?? sealed?.ns;
      if (sealed && ns !== undefined && allowed(ns)) wanted.push(sealed.key);
      return node;
    });
    if (wanted.length === 0) return mapSecrets(doc, () => REDACTED);
    requireKeyring();
    const keys = await loadKeys(q, wanted);
    return mapSecrets(doc, (node, pointer) => {
      const sealed = sealedOf(node);
      const ns = namespace ?? sealed?.ns;
      if (!sealed || ns === undefined) {
        if (allowed(namespace ?? ""))
          throw undecryptable(namespace ?? "?", pointer, "it is not a sealed secret");
        return REDACTED;
      }
      return allowed(ns) ? decryptNode(keys, sealed, ns, pointer) : REDACTED;
    });
  }

  return {
    enabled: keyring !== null,
    reveal,

    /**
     * The stored form of a layer about to be written: each `{"$secret": "<value>"}` encrypted
     * with the namespace's data key (a value equal to one already in `trusted` keeps that node, so
     * re-writing a secret changes nothing). Sealed nodes are kept only when they come from
     * storage (the head's, or history on rollback); anything else shaped like a secret is refused.
     */
    async seal(
      q: Queryable,
      namespace: string,
      content: JsonObject,
      options: SealOptions = {},
    ): Promise<JsonObject> {
      const trustedByCt = new Map<string, SealedSecret>();
      if (options.trusted)
        mapSecrets(options.trusted, (node) => {
          const s = sealedOf(node);
          if (s) trustedByCt.set(s.ct, s);
          return node;
        });
      let plaintexts = 0;
      mapSecrets(content, (node, pointer) => {
        if (plaintextOf(node) !== undefined) {
          plaintexts++;
          return node;
        }
        const sealed = sealedOf(node);
        if (Object.keys(node).length !== 1) throw secretInvalid(pointer, 'has keys besides "$secret"');
        if (!sealed) throw secretInvalid(pointer, "is not a string");
        const held = trustedByCt.get(sealed.ct);
        const same = held !== undefined && held.key === sealed.key && held.digest === sealed.digest;
        if (sealed.ns !== undefined || (!options.fromHistory && !same))
          throw secretInvalid(pointer, "is an encrypted secret this layer does not hold");
        return node;
      });
      if (plaintexts === 0) return content;
      const key = await activeKey(q, namespace);
      const reusable = new Map<string, SealedSecret>();
      for (const s of trustedByCt.values()) if (s.key === key.id) reusable.set(s.digest, s);
      return mapSecrets(content, (node) => {
        const plaintext = plaintextOf(node);
        if (plaintext === undefined) return node;
        const digest = secretDigest(key, plaintext);
        const same = reusable.get(digest);
        return sealedNode(same ?? { v: 1, key: key.id, ct: encryptSecret(key, plaintext), digest });
      });
    },

    /** Does this content hold a secret written in plaintext (`{"$secret": "<value>"}`)? */
    holdsPlaintext(content: JsonObject): boolean {
      let found = false;
      mapSecrets(content, (node) => {
        if (plaintextOf(node) !== undefined) found = true;
        return node;
      });
      return found;
    },

    /** Pointers of the secrets of a document (to redact schema messages about them). */
    pointersOf: (doc: unknown) => new Set(secretPointers(doc)),

    /**
     * Re-wrap every data key not wrapped by the active master key with it. Safe while serving:
     * each data key stays the same (so every secret stays readable), each row swaps on its old
     * master key id, and instances holding both master keys read either wrapping.
     */
    async rotate(): Promise<RotationReport> {
      const ring = requireKeyring();
      const master = ring.keys.get(ring.activeKeyId)!;
      const report: RotationReport = {
        activeKeyId: ring.activeKeyId,
        dataKeys: 0,
        rewrapped: 0,
        alreadyCurrent: 0,
        failed: [],
      };
      const before = await store.countAll(deps.pool);
      report.dataKeys = before.total;
      report.alreadyCurrent = before.byMasterKey[ring.activeKeyId] ?? 0;
      const pending = before.total - report.alreadyCurrent;
      deps.logger.info({ activeKeyId: ring.activeKeyId, pending }, "secret key rotation started");
      let after = 0;
      for (;;) {
        const batch = await store.listNotWrappedBy(deps.pool, ring.activeKeyId, after, ROTATION_BATCH);
        if (batch.length === 0) break;
        for (const row of batch) {
          after = row.id;
          const old = ring.keys.get(row.masterKeyId);
          const material = old ? unwrapDataKey(old, row.namespace, row.id, row.wrappedKey) : null;
          if (!material) {
            report.failed.push({
              dataKeyId: row.id,
              namespace: row.namespace,
              masterKeyId: row.masterKeyId,
              reason: old ? "cannot be unwrapped (changed or moved)" : "its master key is not configured",
            });
            continue;
          }
          const swapped = await store.rewrap(
            deps.pool,
            row.id,
            row.masterKeyId,
            ring.activeKeyId,
            wrapDataKey(master, row.namespace, row.id, material),
          );
          if (swapped) report.rewrapped++;
          else report.alreadyCurrent++;
        }
        deps.logger.info(
          { rewrapped: report.rewrapped, failed: report.failed.length, pending },
          "secret key rotation in progress",
        );
      }
      deps.logger.info(
        { activeKeyId: ring.activeKeyId, rewrapped: report.rewrapped, failed: report.failed.length },
        "secret key rotation finished",
      );
      return report;
    },
  };
}
export type SecretService = ReturnType<typeof createSecretService>;
