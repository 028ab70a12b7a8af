import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDependencyStore } from "../../src/resolve/dependency-store.js";
import { call, type Harness, startRegistry } from "./harness.js";

/**
 * Writes to a namespace and to one that reads it, at the same moment. Each resolves the other's
 * side from what it read; without a check on the reader's version, the later commit stored a
 * resolved document built from the other's old content (about one round in ten, in-process; more
 * than half the rounds when the reader starts reading with that write).
 */
describe("concurrent writes across a ${ref:...}", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
    for (const name of ["upstream", "reader"]) {
      expect((await call(h, "POST", "/v1/namespaces", { name })).status).toBe(201);
    }
    await call(h, "PUT", "/v1/namespaces/upstream/layers/base", { v: 0 });
    await call(h, "PUT", "/v1/namespaces/reader/layers/base", { x: "${ref:upstream:v}", y: 0 });
  });
  afterAll(async () => h?.close());

  it("never leaves the reader resolved from the upstream's old content", async () => {
    const stale: string[] = [];
    for (let round = 1; round <= 60; round++) {
      const [upstream, reader] = await Promise.all([
        call(h, "PUT", "/v1/namespaces/upstream/layers/base", { v: round }),
        call(h, "PUT", "/v1/namespaces/reader/layers/base", { x: "${ref:upstream:v}", y: round }),
      ]);
      expect([upstream.status, reader.status]).toEqual([200, 200]);
      const resolved = await call(h, "GET", "/v1/namespaces/reader/environments/production/resolved");
      const { x, y } = resolved.body.content as { x: number; y: number };
      if (x !== round || y !== round) stale.push(`round ${round}: x=${x}, y=${y}`);
    }
    expect(stale).toEqual([]);
  });

  it("re-resolves a namespace that starts reading another while that one is written", async () => {
    expect((await call(h, "POST", "/v1/namespaces", { name: "newcomer" })).status).toBe(201);
    const stale: string[] = [];
    for (let round = 1; round <= 40; round++) {
      await call(h, "PUT", "/v1/namespaces/newcomer/layers/base", { y: -round }); // reads nothing
      const [upstream, newcomer] = await Promise.all([
        call(h, "PUT", "/v1/namespaces/upstream/layers/base", { v: 1_000 + round }),
        call(h, "PUT", "/v1/namespaces/newcomer/layers/base", { x: "${ref:upstream:v}", y: round }),
      ]);
      expect([upstream.status, newcomer.status]).toEqual([200, 200]);
      const resolved = await call(h, "GET", "/v1/namespaces/newcomer/environments/production/resolved");
      const { x } = resolved.body.content as { x: number };
      if (x !== 1_000 + round) stale.push(`round ${round}: x=${x}`);
    }
    expect(stale).toEqual([]);
  });

  it("re-resolves a reader that starts reading another key of the upstream while that key is written", async () => {
    // The upstream's write re-resolves only readers of the keys it changes: a reader that starts
    // reading the changed key concurrently must make one of the two start over.
    await call(h, "PUT", "/v1/namespaces/upstream/layers/base", { v: 0, w: 0 });
    const stale: string[] = [];
    for (let round = 1; round <= 40; round++) {
      await call(h, "PUT", "/v1/namespaces/reader/layers/base", { x: "${ref:upstream:v}", y: -round });
      const [upstream, reader] = await Promise.all([
        call(h, "PUT", "/v1/namespaces/upstream/layers/base", { v: 0, w: 2_000 + round }),
        call(h, "PUT", "/v1/namespaces/reader/layers/base", {
          x: "${ref:upstream:v}",
          z: "${ref:upstream:w}",
        }),
      ]);
      expect([upstream.status, reader.status]).toEqual([200, 200]);
      const resolved = await call(h, "GET", "/v1/namespaces/reader/environments/production/resolved");
      const { z } = resolved.body.content as { z: number };
      if (z !== 2_000 + round) stale.push(`round ${round}: z=${z}`);
    }
    expect(stale).toEqual([]);
    // As the next test expects it: reading v only.
    await call(h, "PUT", "/v1/namespaces/reader/layers/base", { x: "${ref:upstream:v}", y: 0 });
  });

  it("re-resolves the reader on a variables change that races a write to the reader", async () => {
    await call(h, "PATCH", "/v1/namespaces/upstream", { variables: { X: "0" } });
    await call(h, "PUT", "/v1/namespaces/upstream/layers/base", { v: "${env:X}" });
    const stale: string[] = [];
    for (let round = 1; round <= 40; round++) {
      const [variables, reader] = await Promise.all([
        call(h, "PATCH", "/v1/namespaces/upstream", { variables: { X: String(round) } }),
        call(h, "PUT", "/v1/namespaces/reader/layers/base", { x: "${ref:upstream:v}", y: round }),
      ]);
      // A variables change that meets a concurrent write to a reader starts over, unseen.
      expect([variables.status, reader.status]).toEqual([200, 200]);
      const resolved = await call(h, "GET", "/v1/namespaces/reader/environments/production/resolved");
      const { x, y } = resolved.body.content as { x: string; y: number };
      if (x !== String(round) || y !== round) stale.push(`round ${round}: x=${x}, y=${y}`);
    }
    expect(stale).toEqual([]);
  });

  it("moves other namespaces' versions on only when each is where it was read", async () => {
    const store = createDependencyStore();
    const version = async (name: string) =>
      (await h.db.pool.query("SELECT write_version FROM namespaces WHERE name = $1", [name])).rows[0]
        .write_version as string;
    const [up, rd] = [await version("upstream"), await version("reader")];
    const wrong = [
      { name: "reader", writeVersion: rd },
      { name: "upstream", writeVersion: String(Number(up) - 1) },
    ];
    expect(await store.advanceVersions(h.db.pool, wrong)).toBe(false);
    expect([await version("upstream"), await version("reader")]).toEqual([up, rd]);
    const right = [
      { name: "reader", writeVersion: rd },
      { name: "upstream", writeVersion: up },
    ];
    expect(await store.advanceVersions(h.db.pool, right)).toBe(true);
    expect([await version("upstream"), await version("reader")]).toEqual([
      String(Number(up) + 1),
      String(Number(rd) + 1),
    ]);
  });
});
