import { createHash } from "node:crypto";
import type { Readable, Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import type { SealingKeys } from "@nexus/kit";
import type { BundleStorage } from "../storage/storage-types.js";
import { objectKey } from "./bundle-fns.js";
import { MANIFEST_NAME, Manifest, type TablePart } from "./bundle-types.js";
import { createDecryptStream } from "./crypto-stream.js";
import { createDigestStream, drain, pipeAll } from "./hash-stream.js";

/**
 * Why a bundle cannot be used, in words: `corrupt` (a checksum or the manifest does not match),
 * `missing` (an object is gone), `key` (encrypted with a key that is not configured).
 */
export class BundleError extends Error {
  constructor(
    readonly reason: "corrupt" | "missing" | "key",
    message: string,
    readonly table?: string,
  ) {
    super(message);
    this.name = "BundleError";
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The manifest, checked against the sha256 the catalogue recorded (when it has one). */
export async function readManifest(storage: BundleStorage, backupId: string, expectedSha256?: string | null) {
  return (await readManifestAndDigest(storage, backupId, expectedSha256)).manifest;
}

/** The manifest and the sha256 of its stored bytes. */
export async function readManifestAndDigest(
  storage: BundleStorage,
  backupId: string,
  expectedSha256?: string | null,
): Promise<{ manifest: Manifest; sha256: string }> {
  const text = await readAll(await storage.get(objectKey(backupId, MANIFEST_NAME)));
  const sha = createHash("sha256").update(text).digest("hex");
  if (expectedSha256 && sha !== expectedSha256)
    throw new BundleError("corrupt", `the manifest of ${backupId} does not match its recorded checksum`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.toString("utf8"));
  } catch {
    throw new BundleError("corrupt", `the manifest of ${backupId} is not JSON`);
  }
  const manifest = Manifest.safeParse(parsed);
  if (!manifest.success || manifest.data.id !== backupId)
    throw new BundleError(
      "corrupt",
      `the manifest of ${backupId} is not a Nexus backup manifest for this backup`,
    );
  return { manifest: manifest.data, sha256: sha };
}

/** Every backup of a chain that is encrypted needs its key before anything is read. */
export function assertKeysAvailable(chain: Manifest[], keys: SealingKeys | null): void {
  for (const m of chain) assertKeyAvailable(m, keys);
}

/** A backup that is encrypted needs its key before anything is read. */
export function assertKeyAvailable(manifest: Manifest, keys: SealingKeys | null): void {
  if (!manifest.encryption) return;
  const { keyId } = manifest.encryption;
  if (!keys)
    throw new BundleError(
      "key",
      `backup ${manifest.id} is encrypted with backup key "${keyId}", and no backup key is configured (BACKUP_ENCRYPTION_KEY)`,
    );
  if (!keys.keys.has(keyId))
    throw new BundleError(
      "key",
      `backup ${manifest.id} is encrypted with backup key "${keyId}", which is not among the configured backup keys (BACKUP_ENCRYPTION_KEY, BACKUP_PREVIOUS_KEYS)`,
    );
}

/** One stored part of one bundle of a chain. */
export interface PartRef {
  manifest: Manifest;
  part: TablePart;
}

/**
 * The bundles a backup needs, oldest first: the full backup its chain starts from, the
 * incrementals after it, and itself. `expectedSha256Of` gives the catalogue's checksum of a
 * parent's manifest (null when the catalogue has none).
 */
export async function manifestChain(
  storage: BundleStorage,
  manifest: Manifest,
  expectedSha256Of: (id: string) => Promise<string | null>,
): Promise<Manifest[]> {
  const chain = [manifest];
  for (let m = manifest; m.parent; ) {
    if (chain.length > 10_000 || chain.some((c) => c.id === m.parent))
      throw new BundleError("corrupt", `the chain of ${manifest.id} loops at ${m.parent}`);
    let parent: Manifest;
    try {
      parent = await readManifest(storage, m.parent, await expectedSha256Of(m.parent));
    } catch (err) {
      if ((err as Error).name === "StorageNotFoundError")
        throw new BundleError(
          "missing",
          `${manifest.id} builds on ${m.parent}, which is missing from storage`,
        );
      throw err;
    }
    chain.unshift(parent);
    m = parent;
  }
  return chain;
}

/** The parts a restore of the chain's last backup reads: a history table's from each link, others' from the last. */
export function partsNeeded(chain: Manifest[]): PartRef[] {
  const last = chain.at(-1)!;
  const refs: PartRef[] = [];
  for (const part of last.tables) {
    if (!part.delta) {
      refs.push({ manifest: last, part });
      continue;
    }
    for (const m of chain) {
      const p = m.tables.find((t) => t.schema === part.schema && t.table === part.table);
      if (!p)
        throw new BundleError(
          "corrupt",
          `${m.id} lacks table ${part.schema}.${part.table} that ${last.id} builds on`,
        );
      refs.push({ manifest: m, part: p });
    }
  }
  return refs;
}

/**
 * Read every stored part once and compare its size and sha256 with the manifest: a changed or
 * missing byte anywhere is found before any row is restored.
 */
export async function checkParts(
  storage: BundleStorage,
  refs: PartRef[],
  onPart?: (ref: PartRef, index: number) => void | Promise<void>,
): Promise<void> {
  let i = 0;
  for (const ref of refs) {
    await onPart?.(ref, i++);
    const { manifest, part: t } = ref;
    const label = `${t.schema}.${t.table}`;
    let body: Readable;
    try {
      body = await storage.get(objectKey(manifest.id, t.part.name));
    } catch (err) {
      if ((err as Error).name === "StorageNotFoundError")
        throw new BundleError(
          "missing",
          `part ${t.part.name} of ${manifest.id} is missing from storage`,
          label,
        );
      throw err;
    }
    const digest = createDigestStream();
    await pipeAll([body, digest.stream, drain()]);
    const got = digest.result();
    if (got.bytes !== t.part.bytes || got.sha256 !== t.part.sha256)
      throw new BundleError(
        "corrupt",
        `part ${t.part.name} of ${manifest.id} does not match its checksum (${got.bytes} bytes, expected ${t.part.bytes}): the bundle is corrupt`,
        label,
      );
  }
}

/** The part's rows as COPY text: stored bytes → decrypt (when encrypted) → gunzip. */
export async function openPart(
  storage: BundleStorage,
  manifest: Manifest,
  part: TablePart,
  keys: SealingKeys | null,
): Promise<{ source: Readable; stages: Transform[] }> {
  const source = await storage.get(objectKey(manifest.id, part.part.name));
  const stages: Transform[] = [];
  if (manifest.encryption) stages.push(createDecryptStream(keys, `${manifest.id}/${part.part.name}`));
  stages.push(createGunzip());
  return { source, stages };
}
