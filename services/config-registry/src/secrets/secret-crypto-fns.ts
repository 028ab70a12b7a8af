/**
 * Envelope encryption of secret values (node:crypto, AES-256-GCM), without I/O.
 *
 * - Master keys come from the environment (`kid:base64` each, 32 bytes); one is active.
 * - Each namespace has a random 32-byte data key, stored wrapped (encrypted) by a master key,
 *   with that master key's id. Its associated data binds it to (namespace, data key id), so a
 *   wrapped key moved to another row does not unwrap.
 * - A secret value is encrypted with its namespace's data key; the associated data binds it to
 *   (namespace, data key id), so a ciphertext copied into another namespace does not decrypt.
 * - Its digest is an HMAC-SHA256 of the value under a key derived (HKDF) from the data key: equal
 *   values give equal digests within a namespace (so re-writing a secret is "unchanged"), and the
 *   digest reveals nothing without the key. The ciphertext's IV is random, so it cannot serve.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface Keyring {
  /** Master key id → 32-byte key. */
  keys: ReadonlyMap<string, Buffer>;
  /** The master key new data keys are wrapped with, and rotation re-wraps to. */
  activeKeyId: string;
}

/** A data key, unwrapped: what encrypts a namespace's secrets. */
export interface DataKey {
  id: number;
  namespace: string;
  key: Buffer;
  digestKey: Buffer;
}

/**
 * `kid:base64,kid:base64` → keys. Returns the problems in words (never a key's value), so the
 * environment check can print them.
 */
export function parseMasterKeys(text: string): { keys: Map<string, Buffer>; problems: string[] } {
  const keys = new Map<string, Buffer>();
  const problems: string[] = [];
  const entries = text
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) problems.push("names no key (expected kid:base64-of-32-bytes, comma-separated)");
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(":");
    const kid = colon < 0 ? "" : entry.slice(0, colon);
    const encoded = colon < 0 ? "" : entry.slice(colon + 1);
    const where = KEY_ID.test(kid) ? `key "${kid}"` : `entry ${i + 1}`;
    if (!KEY_ID.test(kid)) {
      problems.push(`${where} has no valid id before ":" (1-64 of A-Z a-z 0-9 . _ -)`);
      return;
    }
    if (keys.has(kid)) {
      problems.push(`${where} appears twice`);
      return;
    }
    const key = BASE64.test(encoded) ? Buffer.from(encoded, "base64") : undefined;
    if (!key || key.length !== KEY_BYTES) {
      problems.push(
        `${where} is not ${KEY_BYTES} bytes in base64 (generate one with: openssl rand -base64 32)`,
      );
      return;
    }
    keys.set(kid, key);
  });
  return { keys, problems };
}

/** The keyring from the two variables, or the problems with them in words. */
export function keyringOf(
  masterKeys: string | undefined,
  activeKeyId: string | undefined,
): { keyring: Keyring | null; problems: { variable: string; message: string }[] } {
  if (masterKeys === undefined || masterKeys.trim() === "") {
    return activeKeyId
      ? {
          keyring: null,
          problems: [{ variable: "SECRETS_ACTIVE_KEY_ID", message: "is set but SECRETS_MASTER_KEYS is not" }],
        }
      : { keyring: null, problems: [] };
  }
  const { keys, problems } = parseMasterKeys(masterKeys);
  const out = problems.map((message) => ({ variable: "SECRETS_MASTER_KEYS", message }));
  let active = activeKeyId?.trim();
  if (!active && keys.size === 1) active = [...keys.keys()][0];
  if (!active) {
    out.push({
      variable: "SECRETS_ACTIVE_KEY_ID",
      message: "is required when SECRETS_MASTER_KEYS holds several keys",
    });
  } else if (problems.length === 0 && !keys.has(active)) {
    out.push({
      variable: "SECRETS_ACTIVE_KEY_ID",
      message: `names "${KEY_ID.test(active) ? active : "?"}", which is not in SECRETS_MASTER_KEYS`,
    });
  }
  if (out.length > 0 || !active) return { keyring: null, problems: out };
  return { keyring: { keys, activeKeyId: active }, problems: [] };
}

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ct, cipher.getAuthTag()]).toString("base64");
}

/** Null when the ciphertext, key or associated data do not match (GCM authentication failed). */
function open(key: Buffer, sealed: string, aad: string): Buffer | null {
  const raw = Buffer.from(sealed, "base64");
  if (raw.length < IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
}

const dataKeyAad = (namespace: string, id: number) => `nexus-data-key\u0000${namespace}\u0000${id}`;
const secretAad = (namespace: string, id: number) => `nexus-secret-v1\u0000${namespace}\u0000${id}`;

export function newDataKeyMaterial(): Buffer {
  return randomBytes(KEY_BYTES);
}

export function wrapDataKey(masterKey: Buffer, namespace: string, id: number, dataKey: Buffer): string {
  return seal(masterKey, dataKey, dataKeyAad(namespace, id));
}

export function unwrapDataKey(
  masterKey: Buffer,
  namespace: string,
  id: number,
  wrapped: string,
): Buffer | null {
  const key = open(masterKey, wrapped, dataKeyAad(namespace, id));
  return key && key.length === KEY_BYTES ? key : null;
}

export function toDataKey(namespace: string, id: number, key: Buffer): DataKey {
  const digestKey = Buffer.from(
    hkdfSync("sha256", key, Buffer.alloc(0), "nexus secret digest v1", KEY_BYTES),
  );
  return { id, namespace, key, digestKey };
}

export function encryptSecret(dataKey: DataKey, plaintext: string): string {
  return seal(dataKey.key, Buffer.from(plaintext, "utf8"), secretAad(dataKey.namespace, dataKey.id));
}

/** Null when the ciphertext was changed or belongs to another namespace or data key. */
export function decryptSecret(dataKey: DataKey, namespace: string, ciphertext: string): string | null {
  const out = open(dataKey.key, ciphertext, secretAad(namespace, dataKey.id));
  return out ? out.toString("utf8") : null;
}

export function secretDigest(dataKey: DataKey, plaintext: string): string {
  return createHmac("sha256", dataKey.digestKey).update(plaintext, "utf8").digest("hex");
}
