/**
 * `nexus audit export` over many pages of the registry's export (1,000 entries a page), to a file
 * and through a pipe: every entry once, in order, and the count it reports is the count written.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

const BULK = 25_000;

describe("nexus audit export, many pages", () => {
  let env: CliEnvironment;
  beforeAll(async () => {
    env = await startCliEnvironment();
    await env.registry.db.pool.query(
      `INSERT INTO audit_log (actor, action, resource, outcome, status_code, details)
       SELECT 'token:bulk', 'GET /v1/namespaces/:ns', '/v1/namespaces/bulk-' || i, 'denied', 403,
              jsonb_build_object('reason', 'needs viewer', 'i', i)
         FROM generate_series(1, ${BULK}) AS i`,
    );
  });
  afterAll(async () => env?.close());

  function checkLines(text: string): void {
    const entries = text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { seq: number; actor: string; details: { i: number } });
    expect(entries).toHaveLength(BULK);
    expect(entries.every((e) => e.actor === "token:bulk")).toBe(true);
    // Every entry once, in order, across the page boundaries.
    expect(entries.map((e) => e.details.i)).toEqual(Array.from({ length: BULK }, (_, i) => i + 1));
  }

  /** Progress lines, if the export ran long enough to print any, then the summary. */
  function checkStderr(stderr: string, summary: string): void {
    const lines = stderr.trimEnd().split("\n");
    expect(lines.at(-1)).toBe(summary);
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^[\d,]+ lines written so far$/);
  }

  it("writes every entry to a file, in order", async () => {
    const r = await env.run([
      "audit",
      "export",
      "--actor",
      "token:bulk",
      "-o",
      "big.jsonl",
      "--url",
      env.url,
    ]);
    expect(r.code).toBe(0);
    checkLines(await readFile(join(env.dir, "big.jsonl"), "utf8"));
    checkStderr(r.stderr, `Exported ${BULK} audit entries to big.jsonl.`);
  });

  it("streams every entry to stdout", async () => {
    const r = await env.run(["audit", "export", "--actor", "bulk", "--url", env.url]);
    // `bulk` is not a token id, so it is taken as the actor's full name: nothing matches.
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("Exported 0 audit entries.\n");

    const all = await env.run(["audit", "export", "--actor", "token:bulk", "--url", env.url]);
    expect(all.code).toBe(0);
    checkLines(all.stdout);
    checkStderr(all.stderr, `Exported ${BULK} audit entries.`);
  });
});
