/**
 * Streaming encryption of bundle parts (AES-256-GCM, node:crypto), in authenticated chunks so a
 * reader never releases a byte that has not been checked, and a part cut short is noticed.
 *
 *   header  "NXBK" | version 1 | key id length | key id | 7-byte random nonce prefix
 *   record  u32 plaintext length | ciphertext | 16-byte tag      (plaintext ≤ 64 KiB)
 *
 * Record i's nonce is prefix | u32 i | final flag; the last record has the flag set (it may be
 * empty), so dropping trailing records fails authentication instead of going unnoticed. The
 * associated data is the part's name: a part copied into another place does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import type { SealingKeys } from "@nexus/kit";

const MAGIC = Buffer.from("NXBK");
const VERSION = 1;
const PREFIX_BYTES = 7;
const TAG_BYTES = 16;
export const CHUNK_BYTES = 64 * 1024;

/** Why a part does not decrypt, in words; never carries key material or plaintext. */
export class BundleDecryptError extends Error {
  constructor(
    readonly reason: "not_encrypted" | "unknown_key" | "corrupt" | "truncated",
    message: string,
  ) {
    super(message);
    this.name = "BundleDecryptError";
  }
}

function nonceOf(prefix: Buffer, index: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, PREFIX_BYTES);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

/** Encrypts a part with the active backup key. */
export function createEncryptStream(keys: SealingKeys, partName: string): Transform {
  const key = keys.keys.get(keys.activeKeyId)!;
  const keyId = Buffer.from(keys.activeKeyId, "utf8");
  const prefix = randomBytes(PREFIX_BYTES);
  const aad = Buffer.from(partName, "utf8");
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let index = 0;

  const seal = (plain: Buffer, final: boolean): Buffer => {
    const cipher = createCipheriv("aes-256-gcm", key, nonceOf(prefix, index++, final));
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(plain.length);
    return Buffer.concat([len, body, cipher.getAuthTag()]);
  };

  return new Transform({
    construct(callback) {
      this.push(Buffer.concat([MAGIC, Buffer.from([VERSION, keyId.length]), keyId, prefix]));
      callback();
    },
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= CHUNK_BYTES) {
        let all = Buffer.concat(pending);
        while (all.length >= CHUNK_BYTES) {
          this.push(seal(all.subarray(0, CHUNK_BYTES), false));
          all = all.subarray(CHUNK_BYTES);
        }
        pending = [all];
        pendingBytes = all.length;
      }
      callback();
    },
    flush(callback) {
      this.push(seal(Buffer.concat(pending), true));
      callback();
    },
  });
}

/**
 * Decrypts a part; each chunk is authenticated before it is passed on. Fails (BundleDecryptError)
 * when the part names a key that is not configured, a chunk was changed, or the part ends early.
 */
export function createDecryptStream(keys: SealingKeys | null, partName: string): Transform {
  const aad = Buffer.from(partName, "utf8");
  let buffered: Buffer = Buffer.alloc(0);
  let key: Buffer | undefined;
  let prefix: Buffer | undefined;
  let index = 0;
  let finished = false;

  const parseHeader = (): boolean => {
    if (buffered.length < 6) return false;
    if (!buffered.subarray(0, 4).equals(MAGIC) || buffered[4] !== VERSION)
      throw new BundleDecryptError("not_encrypted", `part ${partName} is not an encrypted bundle part`);
    const idLen = buffered[5]!;
    if (buffered.length < 6 + idLen + PREFIX_BYTES) return false;
    const keyId = buffered.subarray(6, 6 + idLen).toString("utf8");
    key = keys?.keys.get(keyId);
    if (!key)
      throw new BundleDecryptError(
        "unknown_key",
        keys
          ? `part ${partName} is encrypted with backup key "${keyId}", which is not among the configured backup keys`
          : `part ${partName} is encrypted with backup key "${keyId}", and no backup key is configured (BACKUP_ENCRYPTION_KEY)`,
      );
    prefix = Buffer.from(buffered.subarray(6 + idLen, 6 + idLen + PREFIX_BYTES));
    buffered = buffered.subarray(6 + idLen + PREFIX_BYTES);
    return true;
  };

  return new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      try {
        buffered = Buffer.concat([buffered, chunk]);
        if (!key && !parseHeader()) return callback();
        for (;;) {
          if (buffered.length < 4) break;
          const len = buffered.readUInt32BE(0);
          if (len > CHUNK_BYTES)
            throw new BundleDecryptError("corrupt", `part ${partName} is corrupt (bad record length)`);
          if (buffered.length < 4 + len + TAG_BYTES) break;
          if (finished)
            throw new BundleDecryptError("corrupt", `part ${partName} has data after its last record`);
          const body = buffered.subarray(4, 4 + len);
          const tag = buffered.subarray(4 + len, 4 + len + TAG_BYTES);
          // The final flag is not stored: try the record as a middle one, then as the last one.
          const plain = open(body, tag, false) ?? open(body, tag, true);
          if (!plain)
            throw new BundleDecryptError(
              "corrupt",
              `part ${partName} does not authenticate (changed, or not this part)`,
            );
          buffered = buffered.subarray(4 + len + TAG_BYTES);
          index++;
          if (plain.length > 0) this.push(plain);
        }
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      if (!finished || buffered.length > 0)
        return callback(new BundleDecryptError("truncated", `part ${partName} ends before its last record`));
      callback();
    },
  });

  function open(body: Buffer, tag: Buffer, final: boolean): Buffer | undefined {
    try {
      const decipher = createDecipheriv("aes-256-gcm", key!, nonceOf(prefix!, index, final));
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(body), decipher.final()]);
      if (final) finished = true;
      return plain;
    } catch {
      return undefined;
    }
  }
}
