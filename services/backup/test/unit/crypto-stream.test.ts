import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { newSealingKey, parseSealingKeys } from "@nexus/kit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHUNK_BYTES, createDecryptStream, createEncryptStream } from "../../src/bundle/crypto-stream.js";

const keys = parseSealingKeys(newSealingKey("k1")).keys!;

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const encrypt = (plain: Buffer, name = "bk/part", pieces = 1) => {
  const size = Math.ceil(plain.length / pieces) || 1;
  const parts = [];
  for (let i = 0; i < plain.length; i += size) parts.push(plain.subarray(i, i + size));
  return collect(Readable.from(parts).pipe(createEncryptStream(keys, name)));
};
const decrypt = (sealed: Buffer, name = "bk/part", k = keys as typeof keys | null) =>
  collect(Readable.from([sealed]).pipe(createDecryptStream(k, name)));

describe("bundle part encryption", () => {
  it("round-trips any content, however it is cut into writes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3 * CHUNK_BYTES + 17 }),
        fc.integer({ min: 1, max: 7 }),
        async (data, pieces) => {
          const plain = Buffer.from(data);
          expect((await decrypt(await encrypt(plain, "bk/part", pieces))).equals(plain)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("does not show the plaintext", async () => {
    const plain = Buffer.from("password=hunter2-canary ".repeat(100));
    expect((await encrypt(plain)).includes(Buffer.from("hunter2-canary"))).toBe(false);
  });

  it("refuses a changed byte, a part cut short, or a part under another name", async () => {
    const plain = randomBytes(2 * CHUNK_BYTES + 100);
    const sealed = await encrypt(plain);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 40]! ^= 1;
    await expect(decrypt(flipped)).rejects.toMatchObject({ reason: "corrupt" });
    // Cut at a record boundary: every remaining record authenticates, but the last one is missing.
    const firstRecordEnd = 6 + 2 + 7 + 4 + CHUNK_BYTES + 16;
    await expect(decrypt(sealed.subarray(0, firstRecordEnd))).rejects.toMatchObject({ reason: "truncated" });
    await expect(decrypt(sealed, "bk/other-part")).rejects.toMatchObject({ reason: "corrupt" });
  });

  it("says which key it needs when that key is not configured", async () => {
    const sealed = await encrypt(Buffer.from("x"));
    await expect(decrypt(sealed, "bk/part", null)).rejects.toThrow(
      /backup key "k1", and no backup key is configured/,
    );
    const other = parseSealingKeys(newSealingKey("k2")).keys!;
    await expect(decrypt(sealed, "bk/part", other)).rejects.toMatchObject({ reason: "unknown_key" });
    await expect(decrypt(Buffer.from("plain gzip bytes"))).rejects.toMatchObject({ reason: "not_encrypted" });
  });
});
