import { describe, expect, it } from "vitest";
import { contentHash } from "../../src/content-hash.js";
import type { ReadResult, RegistryReader, ResolvedDocument } from "../../src/registry-reader.js";
import type { RolloutGate } from "../../src/rollout-gate.js";
import { startingRevision } from "../../src/startup.js";

const doc = (revision: number, content: Record<string, unknown>): ResolvedDocument => ({
  namespace: "shop",
  environment: "production",
  revision,
  hash: contentHash(content, undefined),
  content,
});
const newest = doc(5, { mode: "new" });
const held = doc(3, { mode: "old" });
const holding: RolloutGate = {
  ask: async () => ({ decision: "hold", rolloutId: "r-1", holdRevision: 3, wave: 2 }),
};
const logs: string[] = [];
const logger = {
  debug: () => undefined,
  info: (_: unknown, m: string) => void logs.push(m),
  warn: (_: unknown, m: string) => void logs.push(m),
  error: () => undefined,
};
const reader = (answer: ResolvedDocument | undefined): RegistryReader => ({
  transport: "nats",
  read: async () => ({ kind: "document", document: newest }),
  ...(answer ? { readAt: async (): Promise<ReadResult> => ({ kind: "document", document: answer }) } : {}),
});
const start = (r: RegistryReader) =>
  startingRevision(newest, { reader: r, gate: holding, nc: undefined, logger });

describe("startingRevision", () => {
  it("starts on the revision the held wave runs when the reader can read it", async () => {
    expect(await start(reader(held))).toBe(held);
  });

  it("starts on the newest, saying so, when the registry answers with a newer revision than asked (it ignored `revision`)", async () => {
    logs.length = 0;
    expect(await start(reader(newest))).toBe(newest);
    expect(logs.join("\n")).toContain("did not serve the revision this instance's rollout wave runs");
  });

  it("starts on the newest when the reader cannot read a past revision", async () => {
    expect(await start(reader(undefined))).toBe(newest);
  });
});
