import { describe, expect, it } from "vitest";
import type { ResolvedRead } from "../../src/api-client.js";
import { CliError, ExitCode, errorFromResponse } from "../../src/exit-codes.js";
import { createPollingSource, isTransient } from "../../src/watch/polling-source.js";
import type { ResolvedSnapshot } from "../../src/watch/watch-source.js";

/**
 * The polling loop against a scripted `getResolved` (the HTTP boundary): what it yields, what it
 * sends, how it rides out failures. The real registry is exercised by the integration tests.
 */
type Step = ResolvedRead | CliError;

const snapshot = (revision: number, hash: string): ResolvedRead => ({
  notModified: false,
  etag: `"${hash}"`,
  resolved: { namespace: "shop", environment: "prod", revision, hash, content: { revision } },
});
const notModified: ResolvedRead = { notModified: true };
const unreachable = () =>
  new CliError("cannot reach the registry", { exitCode: ExitCode.error, code: "unreachable" });

function scripted(steps: Step[], onExhausted: () => void) {
  const sent: (string | undefined)[] = [];
  return {
    sent,
    client: {
      async getResolved(_ns: string, _env: string, options: { ifNoneMatch?: string } = {}) {
        sent.push(options.ifNoneMatch);
        const step = steps.shift();
        if (step === undefined) {
          onExhausted();
          return notModified;
        }
        if (step instanceof CliError) throw step;
        return step;
      },
    },
  };
}

async function collect(steps: Step[], notes: string[] = []) {
  const stop = new AbortController();
  const { client, sent } = scripted(steps, () => stop.abort());
  const source = createPollingSource(client, {
    intervalMs: 1,
    maxBackoffMs: 4,
    notices: { unreachable: (e) => notes.push(`down: ${e.code}`), recovered: () => notes.push("up") },
  });
  const seen: ResolvedSnapshot[] = [];
  for await (const s of source.watch({ namespace: "shop", environment: "prod" }, stop.signal)) seen.push(s);
  return { seen, sent };
}

describe("polling watch source", () => {
  it("yields the current snapshot, then only changes, asking with the last ETag", async () => {
    const { seen, sent } = await collect([
      snapshot(1, "h1"),
      notModified,
      notModified,
      snapshot(2, "h2"),
      notModified,
    ]);
    expect(seen.map((s) => [s.revision, s.hash])).toEqual([
      [1, "h1"],
      [2, "h2"],
    ]);
    expect(sent.slice(0, 5)).toEqual([undefined, '"h1"', '"h1"', '"h1"', '"h2"']);
  });

  it("rides out an unreachable registry and 5xx answers, saying so once each way", async () => {
    const notes: string[] = [];
    const { seen } = await collect(
      [
        snapshot(1, "h1"),
        unreachable(),
        errorFromResponse(503, "Service Unavailable", { code: "not_ready", message: "draining" }),
        unreachable(),
        snapshot(3, "h3"),
      ],
      notes,
    );
    expect(seen.map((s) => s.revision)).toEqual([1, 3]);
    expect(notes).toEqual(["down: unreachable", "up"]);
  });

  it("ends with the error when it will not heal (the namespace is gone)", async () => {
    const gone = errorFromResponse(404, "Not Found", { code: "namespace_not_found", message: "gone" });
    await expect(collect([snapshot(1, "h1"), gone])).rejects.toBe(gone);
  });

  it("ends quietly when stopped", async () => {
    const stop = new AbortController();
    stop.abort();
    const { client } = scripted([snapshot(1, "h1")], () => {});
    const source = createPollingSource(client, { intervalMs: 1 });
    const seen: unknown[] = [];
    for await (const s of source.watch({ namespace: "shop", environment: "prod" }, stop.signal)) seen.push(s);
    expect(seen).toEqual([]);
  });

  it("retries only what can heal", () => {
    expect(isTransient(unreachable())).toBe(true);
    expect(isTransient(errorFromResponse(500, "", undefined))).toBe(true);
    expect(isTransient(errorFromResponse(429, "", undefined))).toBe(true);
    expect(isTransient(errorFromResponse(404, "", undefined))).toBe(false);
    expect(isTransient(errorFromResponse(401, "", undefined))).toBe(false);
    expect(isTransient(new Error("x"))).toBe(false);
  });
});
