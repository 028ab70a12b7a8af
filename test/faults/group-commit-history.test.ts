import { describe, expect, it } from "vitest";
import { buildApp, type RegistryApp } from "../../services/config-registry/src/app.js";
import { REGISTRY_SCHEMA, startRegistry } from "../../services/config-registry/test/integration/harness.js";
import { readChangedEvents, request as registryRequest } from "../support/write-history.js";
import { recordFigure } from "./figures.js";

/**
 * Concurrent read-modify-write clients (`If-Match`) on eight namespaces through two registry
 * instances, so that writes to different namespaces commit in groups (`writes/group-commit.ts`).
 * Every request is recorded and the history checked offline: each acknowledged write is the one
 * revision it answered, each revision was based on the one before it (no lost update), none is
 * there that no request could have made, and each namespace's `config.changed` events are its
 * revisions, once each, in order.
 */
const NAMESPACES = Array.from({ length: 8 }, (_, i) => `gh-${i + 1}`);
const CLIENTS_PER_NAMESPACE = 3;
const SECONDS = Number(process.env.HISTORY_SECONDS ?? 0) || 5;

/** The fields of a layer's answer this test reads. */
interface Answer {
  revision: number;
  content: { counter: number };
}

interface Op {
  namespace: string;
  client: string;
  basedOn: number;
  counter: number;
  outcome: "ok" | "conflict" | "unknown";
  revision?: number;
}

describe("group commit: concurrent conditional writers on many namespaces", () => {
  it("loses no acknowledged write, applies none twice, and announces each revision once in order", async () => {
    const h = await startRegistry();
    const second = await buildApp(h.registryDeps);
    // Both instances share the pool: count the statements that committed several writes.
    let groups = 0;
    let grouped = 0;
    const pool = h.db.pool as unknown as { query: (...args: unknown[]) => Promise<unknown> };
    const query = pool.query.bind(pool);
    pool.query = (...args: unknown[]) => {
      const name = (args[0] as { name?: string } | undefined)?.name;
      const m = name ? /^layer-write-group-\d+-\d+x(\d+)$/.exec(name) : null;
      if (m) {
        groups++;
        grouped += Number(m[1]);
      }
      return query(...args);
    };
    try {
      const urls = await Promise.all(
        [h.registry, second].map(async (app: RegistryApp) => app.app.listen({ host: "127.0.0.1", port: 0 })),
      );
      const targets = urls.map((url) => ({ url, token: h.adminToken }));
      const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
        registryRequest(
          targets[Math.floor(Math.random() * targets.length)]!,
          method,
          path,
          body,
          headers,
        ) as Promise<{
          status: number;
          body: Answer;
        }>;
      for (const name of NAMESPACES) {
        expect((await request("POST", "/v1/namespaces", { name })).status).toBe(201);
        expect(
          (await request("PUT", `/v1/namespaces/${name}/layers/production`, { counter: 0, basedOn: 0 }))
            .status,
        ).toBe(200);
      }

      const history: Op[] = [];
      const deadline = Date.now() + SECONDS * 1_000;
      const client = async (namespace: string, name: string) => {
        const path = `/v1/namespaces/${namespace}/layers/production`;
        while (Date.now() < deadline) {
          const read = await request("GET", path).catch(() => null);
          if (read?.status !== 200) continue;
          const basedOn = read.body.revision as number;
          const counter = (read.body.content.counter as number) + 1;
          const op: Op = { namespace, client: name, basedOn, counter, outcome: "unknown" };
          history.push(op);
          const res = await request(
            "PUT",
            path,
            { counter, basedOn, by: name },
            { "if-match": `"${basedOn}"` },
          ).catch(() => null);
          if (res?.status === 200) {
            op.outcome = "ok";
            op.revision = res.body.revision;
          } else if (res?.status === 409 || res?.status === 412) op.outcome = "conflict";
        }
      };
      await Promise.all(
        NAMESPACES.flatMap((ns) =>
          Array.from({ length: CLIENTS_PER_NAMESPACE }, (_, i) => client(ns, `${ns}-c${i}`)),
        ),
      );

      await h.registry.relay.drain();
      for (const until = Date.now() + 20_000; ; ) {
        const left = await h.db.pool.query(
          "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL",
        );
        if (left.rows[0].n === 0) break;
        if (Date.now() > until) throw new Error(`${left.rows[0].n} outbox rows never published`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const events = (await readChangedEvents(h.nats.nc, h.nats.streams.events, h.nats.prefix)).filter(
        (e) => e.environment === "production",
      );

      const problems: string[] = [];
      for (const ns of NAMESPACES) {
        const revisions = (
          await h.db.pool.query<{
            revision: number;
            content: { counter: number; basedOn: number; by?: string };
          }>(
            `SELECT revision, content FROM ${REGISTRY_SCHEMA}.revisions
               WHERE namespace = $1 AND layer = 'production' ORDER BY revision`,
            [ns],
          )
        ).rows;
        const ops = history.filter((o) => o.namespace === ns);
        revisions.forEach((r, i) => {
          const before = revisions[i - 1];
          if (!before) return;
          // Based on the revision before it, and one more than its counter: no update was lost.
          if (r.content.basedOn !== before.revision || r.content.counter !== before.content.counter + 1)
            problems.push(
              `${ns} r${r.revision} is based on r${r.content.basedOn}, not on r${before.revision}`,
            );
          const made = ops.filter(
            (o) =>
              o.client === r.content.by && o.counter === r.content.counter && o.basedOn === r.content.basedOn,
          );
          if (made.length !== 1 || made[0]!.outcome === "conflict")
            problems.push(`${ns} r${r.revision}: no request that could have made it`);
        });
        for (const o of ops.filter((o) => o.outcome === "ok")) {
          const stored = revisions.find((r) => r.revision === o.revision);
          if (stored?.content.by !== o.client || stored.content.counter !== o.counter)
            problems.push(`${ns}: acknowledged r${o.revision} by ${o.client} is not what is stored`);
        }
        const announced = events.filter((e) => e.namespace === ns).map((e) => e.revision);
        const expected = revisions.map((r) => r.revision).filter((r) => r > 1);
        if (JSON.stringify(announced.filter((r) => r > 1)) !== JSON.stringify(expected))
          problems.push(`${ns}: announced ${announced.join(",")}, stored ${expected.join(",")}`);
      }
      expect(problems.slice(0, 20)).toEqual([]);
      const acknowledged = history.filter((o) => o.outcome === "ok").length;
      expect(acknowledged).toBeGreaterThan(40);
      expect(history.filter((o) => o.outcome === "conflict").length).toBeGreaterThan(5);
      // The writes really went in groups.
      expect(groups).toBeGreaterThan(5);
      await recordFigure({
        fault: `${NAMESPACES.length * CLIENTS_PER_NAMESPACE} concurrent If-Match writers on ${NAMESPACES.length} namespaces, two registry instances, writes committed in groups; history checked offline`,
        outcome:
          "0 lost, 0 applied twice, 0 revisions without a request, every revision announced once in order",
        figure: `${history.length} requests, ${acknowledged} acknowledged; ${grouped} writes committed in ${groups} group statements`,
      });
    } finally {
      pool.query = query;
      await second.app.close();
      await h.close();
    }
  }, 120_000);
});
