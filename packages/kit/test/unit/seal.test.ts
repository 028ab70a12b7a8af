import { describe, expect, it } from "vitest";
import {
  deriveKey,
  isSealed,
  newSealingKey,
  openSealed,
  parseSealingKeys,
  SealError,
  sealedKeyId,
  sealValue,
} from "../../src/crypto/seal.js";

const keysOf = (active: string, previous = "") => {
  const parsed = parseSealingKeys(active, previous);
  if (!parsed.keys) throw new Error(parsed.problems.join("; "));
  return parsed.keys;
};

const openError = (f: () => unknown): SealError => {
  try {
    f();
  } catch (err) {
    return err as SealError;
  }
  throw new Error("expected a SealError");
};

describe("sealing secrets (AES-256-GCM)", () => {
  const k1 = newSealingKey("k1");
  const keys = keysOf(k1);

  it("seals to a string naming its key, without the plaintext, and opens with the same associated data", () => {
    const sealed = sealValue(
      keys,
      "hooks.slack.com/services/T0/B0/secret",
      "receiver\u0000team\u0000webhookUrl",
    );
    expect(isSealed(sealed)).toBe(true);
    expect(sealedKeyId(sealed)).toBe("k1");
    expect(sealed).not.toContain("secret");
    expect(sealValue(keys, "same", "a")).not.toBe(sealValue(keys, "same", "a")); // random IV
    expect(openSealed(keys, sealed, "receiver\u0000team\u0000webhookUrl")).toBe(
      "hooks.slack.com/services/T0/B0/secret",
    );
  });

  it("refuses a value moved to another place (other associated data) or with a flipped byte", () => {
    const sealed = sealValue(keys, "R0UTINGKEY", "receiver\u0000a\u0000routingKey");
    const moved = openError(() => openSealed(keys, sealed, "receiver\u0000b\u0000routingKey"));
    expect(moved).toBeInstanceOf(SealError);
    expect(moved.reason).toBe("authentication_failed");
    const raw = Buffer.from(sealed.slice("nxs1:k1:".length), "base64");
    raw[14] = raw[14]! ^ 0x01;
    const flipped = openError(() =>
      openSealed(keys, `nxs1:k1:${raw.toString("base64")}`, "receiver\u0000a\u0000routingKey"),
    );
    expect(flipped.reason).toBe("authentication_failed");
    expect(flipped.message).not.toContain("R0UTINGKEY");
    expect(openError(() => openSealed(keys, "nxs1:k1:AAAA", "x")).reason).toBe("malformed");
    expect(openError(() => openSealed(keys, "plain text", "x")).reason).toBe("malformed");
  });

  it("rotates: values sealed with a previous key still open; new ones use the active key; a dropped key is named", () => {
    const old = sealValue(keys, "v", "aad");
    const rotated = keysOf(newSealingKey("k2"), k1);
    expect(rotated.activeKeyId).toBe("k2");
    expect(openSealed(rotated, old, "aad")).toBe("v");
    expect(sealedKeyId(sealValue(rotated, "v", "aad"))).toBe("k2");
    const dropped = openError(() => openSealed(keysOf(newSealingKey("k3")), old, "aad"));
    expect(dropped.reason).toBe("unknown_key");
    expect(dropped.message).toContain('"k1"');
  });

  it("accepts a bare base64 key (its id derived from it) and names problems without values", () => {
    const bare = k1.slice(3);
    const a = keysOf(bare);
    expect(a.activeKeyId).toMatch(/^k[0-9a-f]{12}$/);
    expect(keysOf(bare).activeKeyId).toBe(a.activeKeyId);
    const bad = parseSealingKeys("k1:c2hvcnQ=", "bad id!:AAAA");
    expect(bad.keys).toBeNull();
    expect(bad.problems).toEqual([
      "the active key is not 32 bytes in base64 (generate one with: openssl rand -base64 32)",
      'previous key 1 has no valid id before ":" (1-64 of A-Z a-z 0-9 . _ -)',
    ]);
    expect(parseSealingKeys(k1, k1).problems).toEqual(['previous key 1 has the id "k1" of another key']);
  });

  it("derives purpose keys from the active key", () => {
    expect(deriveKey(keys, "a").equals(deriveKey(keys, "a"))).toBe(true);
    expect(deriveKey(keys, "a").equals(deriveKey(keys, "b"))).toBe(false);
  });
});
