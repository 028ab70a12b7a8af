import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { ContentHash, EnvironmentName, NamespaceName } from "@nexus/contracts";
import { z } from "zod";
import { contentHash } from "./content-hash.js";
import { reasonOf } from "./errors.js";
import type { ResolvedDocument } from "./registry-reader.js";

/**
 * The last resolved configuration the application applied, on local disk, so the service can
 * start when Nexus is unreachable. Written only after the application accepted a config, so the
 * file never holds something the application refused.
 */
const FORMAT = "nexus-last-known-good/1";

const CacheFile = z.object({
  format: z.literal(FORMAT),
  namespace: NamespaceName,
  environment: EnvironmentName,
  revision: z.number().int().min(0),
  hash: ContentHash,
  content: z.record(z.string(), z.unknown()),
  secretDigests: z.record(z.string(), z.string()).optional(),
  savedAt: z.string(),
});

export type LoadResult =
  | { ok: true; document: ResolvedDocument; savedAt: string }
  | { ok: false; reason: "missing" | "unreadable" | "invalid" | "other-target"; message: string };

export async function readLastKnownGood(
  file: string,
  target: { namespace: string; environment: string },
): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    return { ok: false, reason: missing ? "missing" : "unreadable", message: reasonOf(err) };
  }
  let parsed: z.ZodSafeParseResult<z.infer<typeof CacheFile>>;
  try {
    parsed = CacheFile.safeParse(JSON.parse(text));
  } catch (err) {
    return { ok: false, reason: "invalid", message: `not JSON: ${reasonOf(err)}` };
  }
  if (!parsed.success)
    return { ok: false, reason: "invalid", message: parsed.error.issues[0]?.message ?? "" };
  const c = parsed.data;
  // One file per (namespace, environment): a file from another target is a deployment mistake,
  // and running another service's config would be worse than not starting.
  if (c.namespace !== target.namespace || c.environment !== target.environment) {
    return {
      ok: false,
      reason: "other-target",
      message: `the file holds ${c.namespace}/${c.environment}, not ${target.namespace}/${target.environment}`,
    };
  }
  // The hash is what heartbeats will report as running: it must describe this content.
  if (contentHash(c.content, c.secretDigests) !== c.hash) {
    return {
      ok: false,
      reason: "invalid",
      message: "the content does not match its hash (edited or corrupted)",
    };
  }
  const { namespace, environment, revision, hash, content, secretDigests } = c;
  return {
    ok: true,
    document: {
      namespace,
      environment,
      revision,
      hash,
      content,
      ...(secretDigests ? { secretDigests } : {}),
    },
    savedAt: c.savedAt,
  };
}

/**
 * Atomic replace: write a temporary file next to the target, fsync it, rename it over the target,
 * fsync the directory. A crash at any point leaves either the old file or the new one, never a
 * torn one. Mode 0600: resolved config may hold credentials.
 */
export async function writeLastKnownGood(
  file: string,
  document: ResolvedDocument,
  now = new Date(),
): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const body = `${JSON.stringify({ format: FORMAT, ...pick(document), savedAt: now.toISOString() })}\n`;
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const handle = await open(temp, "w", 0o600);
    try {
      await handle.writeFile(body, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
}

function pick(d: ResolvedDocument) {
  return {
    namespace: d.namespace,
    environment: d.environment,
    revision: d.revision,
    hash: d.hash,
    content: d.content,
    ...(d.secretDigests ? { secretDigests: d.secretDigests } : {}),
  };
}

/** Make the rename itself durable. Some platforms cannot open a directory; the rename is still atomic there. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // best effort (e.g. Windows)
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export interface CacheWriter {
  /** Queue a write; writes land in call order, so the newest applied config is the one kept. */
  write(document: ResolvedDocument): Promise<void>;
  /** Resolves when every queued write is done. */
  idle(): Promise<void>;
}

/** Serialised writes of the last-known-good file; failures are logged, never thrown. */
export function createCacheWriter(file: string | undefined, onError: (err: unknown) => void): CacheWriter {
  let chain: Promise<void> = Promise.resolve();
  return {
    write(document) {
      if (!file) return chain;
      chain = chain.then(() => writeLastKnownGood(file, document).catch(onError));
      return chain;
    },
    idle: () => chain,
  };
}
