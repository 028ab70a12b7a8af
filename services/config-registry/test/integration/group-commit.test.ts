import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, REGISTRY_SCHEMA, startRegistry } from "./harness.js";

/**
 * Concurrent writes to different namespaces of one instance commit in groups (`group-commit.ts`):
 * while the first write's commit is held back, the others queue, and go in one statement.
 */
describe("group commit", () => {
  let h: Harness;
  const NAMESPACES = Array.from({ length: 8 }, (_, i) => `grp-${i + 1}`);
  /** The names of the statements the registry ran, in order. */
  const statements: string[] = [];
  let hold: Promise<void> | null = null;
  /** `config.changed` of production as `namespace:revision`, in arrival order. */
  const announced: string[] = [];

  beforeAll(async () => {
    // A commit held back below counts as in flight however long it takes (not as one waiting for a
    // lock, which the last test covers with the default).
    h = await startRegistry({ groupCommit: { slowMs: 60_000 } });
    for (const name of NAMESPACES)
      expect((await call(h, "POST", "/v1/namespaces", { name })).status).toBe(201);
    h.nats.nc.subscribe(`${h.nats.prefix}.>`, {
      callback: (_err, m) => {
        if (!m.subject.includes(".config.changed.")) return;
        const { data } = m.json<{ data: { namespace: string; environment: string; revision: number } }>();
        if (data.environment === "production") announced.push(`${data.namespace}:${data.revision}`);
      },
    });
    await h.nats.nc.flush();
    const pool = h.db.pool as unknown as { query: (...args: unknown[]) => Promise<unknown> };
    const query = pool.query.bind(pool);
    pool.query = (...args: unknown[]) => {
      const name = (args[0] as { name?: string } | undefined)?.name;
      if (name) statements.push(name);
      if (hold && name?.startsWith("layer-write-commit-")) return hold.then(() => query(...args));
      return query(...args);
    };
  });
  afterAll(async () => h?.close());

  async function waitFor(done: () => boolean) {
    for (const until = Date.now() + 10_000; !done() && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 20));
  }

  /** One PUT to each namespace at once, the first commit held back until all have come. */
  async function writeAll(round: number) {
    let release!: () => void;
    hold = new Promise((r) => {
      release = r;
    });
    const from = statements.length;
    const answers = NAMESPACES.map((ns) =>
      call(h, "PUT", `/v1/namespaces/${ns}/layers/production`, { ns, round }),
    );
    // Long enough for every write to reach its commit on a loaded machine.
    await new Promise((r) => setTimeout(r, 1_000));
    hold = null;
    release();
    return { answers: await Promise.all(answers), ran: statements.slice(from) };
  }

  const revisionsOf = (ns: string) => storedRevisions(h, ns);

  it("commits the writes that queued in one statement, each as it would alone", async () => {
    const { answers, ran } = await writeAll(1);
    expect(answers.map((a) => a.status)).toEqual(NAMESPACES.map(() => 200));
    expect(answers.map((a) => a.body.revision)).toEqual(NAMESPACES.map(() => 1));
    // One went alone (the most in flight at once); the seven that waited went together.
    expect(ran.filter((n) => n.startsWith("layer-write-commit-"))).toHaveLength(1);
    expect(ran.filter((n) => n.startsWith("layer-write-group-"))).toEqual(["layer-write-group-1-1x7"]);
    for (const ns of NAMESPACES) {
      expect(await revisionsOf(ns)).toEqual([{ revision: 1, content: { ns, round: 1 } }]);
      const read = await call(h, "GET", `/v1/namespaces/${ns}/environments/production/resolved`);
      expect(read.body.content).toEqual({ ns, round: 1 });
    }
    await waitFor(() => announced.length >= NAMESPACES.length);
    expect([...announced].sort()).toEqual(NAMESPACES.map((ns) => `${ns}:1`).sort());
    const audit = await h.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${REGISTRY_SCHEMA}.audit_log WHERE resource LIKE '/v1/namespaces/grp-%/layers/production'`,
    );
    expect(audit.rows[0]!.n).toBe(NAMESPACES.length);
  });

  it("applies the others when one write of the group lost its swap; that one goes again", async () => {
    // Another instance moved grp-8 on: this instance's held state of it can no longer swap.
    await h.db.pool.query(
      `UPDATE ${REGISTRY_SCHEMA}.namespaces SET write_version = write_version + 1 WHERE name = 'grp-8'`,
    );
    const reads = statements.filter((n) => n === "layer-write-read").length;
    const { answers, ran } = await writeAll(2);
    expect(answers.map((a) => a.status)).toEqual(NAMESPACES.map(() => 200));
    expect(answers.map((a) => a.body.revision)).toEqual(NAMESPACES.map(() => 2));
    expect(ran).toContain("layer-write-group-1-1x7");
    // Only grp-8 read its namespace again.
    expect(statements.filter((n) => n === "layer-write-read").length).toBe(reads + 1);
    for (const ns of NAMESPACES) expect((await revisionsOf(ns)).map((r) => r.revision)).toEqual([1, 2]);
    // Each announced once.
    await waitFor(() => announced.length >= 2 * NAMESPACES.length);
    expect(announced.filter((a) => a.endsWith(":2")).sort()).toEqual(
      NAMESPACES.map((ns) => `${ns}:2`).sort(),
    );
  });

  it("commits each write alone when Postgres refuses the group's statement", async () => {
    // A real refusal from Postgres for one namespace's revision: the whole statement fails.
    await h.db.pool.query(`
      CREATE FUNCTION ${REGISTRY_SCHEMA}.refuse_grp_8() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$;
      CREATE TRIGGER refuse_grp_8 BEFORE INSERT ON ${REGISTRY_SCHEMA}.revisions
        FOR EACH ROW WHEN (NEW.namespace = 'grp-8') EXECUTE FUNCTION ${REGISTRY_SCHEMA}.refuse_grp_8();`);
    try {
      const { answers, ran } = await writeAll(3);
      const byNamespace = new Map(NAMESPACES.map((ns, i) => [ns, answers[i]!]));
      expect(byNamespace.get("grp-8")!.status).toBe(500);
      for (const ns of NAMESPACES.filter((n) => n !== "grp-8")) {
        expect(byNamespace.get(ns)!.status).toBe(200);
        expect((await revisionsOf(ns)).map((r) => r.revision)).toEqual([1, 2, 3]);
      }
      expect((await revisionsOf("grp-8")).map((r) => r.revision)).toEqual([1, 2]);
      // The group was tried, then each of its writes alone.
      const group = ran.indexOf("layer-write-group-1-1x7");
      expect(group).toBeGreaterThanOrEqual(0);
      expect(
        ran.slice(group + 1).filter((n) => n.startsWith("layer-write-commit-")).length,
      ).toBeGreaterThanOrEqual(7);
    } finally {
      await h.db.pool.query(`DROP TRIGGER refuse_grp_8 ON ${REGISTRY_SCHEMA}.revisions`);
    }
  });
});

describe("group commit, a statement waiting for a row lock", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
  });
  afterAll(async () => h?.close());

  it("does not hold writes to other namespaces behind statements waiting for a row lock", async () => {
    for (const ns of ["grp-1", "grp-2", "grp-3", "grp-4"]) {
      expect((await call(h, "POST", "/v1/namespaces", { name: ns })).status).toBe(201);
      expect((await call(h, "PUT", `/v1/namespaces/${ns}/layers/production`, { ns })).status).toBe(200);
    }
    // Another transaction holds grp-1's row (as a contended write or a Git import does).
    const locker = await h.db.pool.connect();
    try {
      await locker.query("BEGIN");
      await locker.query(`SELECT 1 FROM ${REGISTRY_SCHEMA}.namespaces WHERE name = 'grp-1' FOR UPDATE`);
      // Two writes to grp-1: two statements waiting for the lock, more than may be in flight.
      const blocked = [1, 2].map((i) =>
        call(h, "PUT", "/v1/namespaces/grp-1/layers/production", { blocked: i }),
      );
      await new Promise((r) => setTimeout(r, 100));
      const others = await Promise.race([
        Promise.all(
          ["grp-2", "grp-3", "grp-4"].map((ns) =>
            call(h, "PUT", `/v1/namespaces/${ns}/layers/production`, { ns, round: 4 }),
          ),
        ),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("writes to other namespaces waited for grp-1's lock")), 5_000),
        ),
      ]);
      expect(others.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(await revisions(h, "grp-1")).toEqual([1]);
      await locker.query("COMMIT");
      expect((await Promise.all(blocked)).map((a) => a.status)).toEqual([200, 200]);
      expect(await revisions(h, "grp-1")).toEqual([1, 2, 3]);
    } finally {
      await locker.query("ROLLBACK").catch(() => undefined);
      locker.release();
    }
  });
});

/** A namespace's stored revisions, oldest first. */
async function storedRevisions(h: Harness, ns: string) {
  const res = await h.db.pool.query<{ revision: number; content: unknown }>(
    `SELECT revision, content FROM ${REGISTRY_SCHEMA}.revisions WHERE namespace = $1 ORDER BY revision`,
    [ns],
  );
  return res.rows;
}

const revisions = async (h: Harness, ns: string) => (await storedRevisions(h, ns)).map((r) => r.revision);
