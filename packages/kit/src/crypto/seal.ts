/**
 * Sealing small secrets at rest (AES-256-GCM, node:crypto) under a master key from the
 * environment, the way the registry encrypts secret values (services/config-registry
 * secret-crypto-fns.ts): random 12-byte IV, 16-byte tag, associated data that binds each
 * ciphertext to where it belongs (so one copied elsewhere does not open).
 *
 * A sealed value is one string, `nxs1:<key id>:<base64(iv | ciphertext | tag)>`: it names the key
 * it was sealed with, so keys can be rotated (seal with the active key, open with any key still
 * listed). Errors never carry the plaintext, a key, or the ciphertext.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SEALING_KEY_BYTES = 32;
const PREFIX = "nxs1:";
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface SealingKeys {
  /** Key id → 32-byte key: every key a sealed value may still name. */
  keys: ReadonlyMap<string, Buffer>;
  /** The key new values are sealed with. */
  activeKeyId: string;
}

export type SealErrorReason = "malformed" | "unknown_key" | "authentication_failed";

/** A sealed value that does not open. The message says why in words, never what it holds. */
export class SealError extends Error {
  constructor(
    readonly reason: SealErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "SealError";
  }
}

/**
 * One key: `kid:base64` or bare base64 of 32 bytes (its id is then derived from the key, so the
 * same key always gets the same id and a new key a new one).
 */
function parseKey(text: string, where: string): { id: string; key: Buffer } | string {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(":");
  const id = colon < 0 ? undefined : trimmed.slice(0, colon);
  const encoded = colon < 0 ? trimmed : trimmed.slice(colon + 1);
  if (id !== undefined && !KEY_ID.test(id))
    return `${where} has no valid id before ":" (1-64 of A-Z a-z 0-9 . _ -)`;
  const key = BASE64.test(encoded) ? Buffer.from(encoded, "base64") : undefined;
  if (!key || key.length !== SEALING_KEY_BYTES)
    return `${where} is not ${SEALING_KEY_BYTES} bytes in base64 (generate one with: openssl rand -base64 32)`;
  return { id: id ?? `k${createHash("sha256").update(key).digest("hex").slice(0, 12)}`, key };
}

/**
 * The active key (`kid:base64` or base64) and the previous ones still able to open (comma-separated
 * `kid:base64`), or the problems in words (never a key's value).
 */
export function parseSealingKeys(
  active: string,
  previous = "",
): { keys: SealingKeys; problems: [] } | { keys: null; problems: string[] } {
  const problems: string[] = [];
  const keys = new Map<string, Buffer>();
  const first = parseKey(active, "the active key");
  if (typeof first === "string") problems.push(first);
  else keys.set(first.id, first.key);
  previous
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)
    .forEach((entry, i) => {
      const k = parseKey(entry, `previous key ${i + 1}`);
      if (typeof k === "string") problems.push(k);
      else if (keys.has(k.id)) problems.push(`previous key ${i + 1} has the id "${k.id}" of another key`);
      else keys.set(k.id, k.key);
    });
  if (problems.length > 0 || typeof first === "string") return { keys: null, problems };
  return { keys: { keys, activeKeyId: first.id }, problems: [] };
}

/** A new random key as `kid:base64` (tests, scripts). */
export function newSealingKey(id = "k1"): string {
  return `${id}:${randomBytes(SEALING_KEY_BYTES).toString("base64")}`;
}

export const isSealed = (value: unknown): value is string =>
  typeof value === "string" && value.startsWith(PREFIX);

/** The id of the key a sealed value names, or null when it is not a sealed value. */
export function sealedKeyId(value: string): string | null {
  if (!isSealed(value)) return null;
  const rest = value.slice(PREFIX.length);
  const colon = rest.indexOf(":");
  return colon > 0 ? rest.slice(0, colon) : null;
}

/** Seal `plaintext` with the active key; `aad` names where it belongs (it must be given again to open). */
export function sealValue(keys: SealingKeys, plaintext: string, aad: string): string {
  const key = keys.keys.get(keys.activeKeyId);
  if (!key) throw new SealError("unknown_key", `the active key "${keys.activeKeyId}" is not in the key list`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return `${PREFIX}${keys.activeKeyId}:${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString("base64")}`;
}

/** The plaintext of a sealed value; SealError when it is malformed, its key is unknown, or it was changed or moved. */
export function openSealed(keys: SealingKeys, sealed: string, aad: string): string {
  const kid = sealedKeyId(sealed);
  const encoded = kid === null ? "" : sealed.slice(PREFIX.length + kid.length + 1);
  if (kid === null || !BASE64.test(encoded)) throw new SealError("malformed", "not a sealed value");
  const key = keys.keys.get(kid);
  if (!key)
    throw new SealError(
      "unknown_key",
      `sealed with key "${kid}", which is not configured (rotated away too early?)`,
    );
  const raw = Buffer.from(encoded, "base64");
  if (raw.length < IV_BYTES + TAG_BYTES) throw new SealError("malformed", "the sealed value is truncated");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    throw new SealError(
      "authentication_failed",
      "the sealed value does not authenticate (changed, or copied from another place)",
    );
  }
}

/** A key for another purpose (e.g. keyed digests), derived from the active key with HKDF. */
export function deriveKey(keys: SealingKeys, purpose: string): Buffer {
  const key = keys.keys.get(keys.activeKeyId);
  if (!key) throw new SealError("unknown_key", `the active key "${keys.activeKeyId}" is not in the key list`);
  return Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), purpose, SEALING_KEY_BYTES));
}
