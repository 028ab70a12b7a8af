import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createTestBus,
  createTestDatabase,
  createTestRedis,
  type TestBus,
  type TestDatabase,
  type TestRedis,
} from "@nexus/test-fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { createGitRepo, type GitRepo } from "../../services/config-registry/test/integration/git-repo.js";
import { type Delivery, githubPush } from "../../services/config-registry/test/integration/git-webhooks.js";
import {
  REGISTRY_MIGRATIONS,
  REGISTRY_SCHEMA,
} from "../../services/config-registry/test/integration/harness.js";
import { hookedSourceBody, NAMESPACE, pushPoolChange } from "../support/hooked-source.js";
import {
  killRepeatedly,
  killsFor,
  OperationHistory,
  restartFigure,
  sleep,
  waitFor,
} from "../support/kill-history.js";
import {
  freePort,
  type RegistryProcess,
  registryAuth,
  startRegistryProcess,
} from "../support/registry-process.js";
import { recordFigure } from "./figures.js";

/**
 * The config-registry process (from dist) SIGKILLed at random moments while Git imports run: a
 * real local repository, commits pushed one after another, each with its signed GitHub delivery
 * (recorded: ok on 2xx, fail on 4xx or a refused connection, unknown otherwise). Unknown
 * deliveries are sent again after the restart under the same delivery id, as GitHub retries, by
 * then usually behind newer ones. Checked offline from git_imports and the layer: no commit
 * imported twice, every acknowledged commit imported or superseded by a later imported one (an
 * out-of-order delivery takes the branch tip instead of its own commit), revisions in commit order,
 * the layer ending as the last commit's file. The reconcile is off, so it cannot mask a lost push.
 */
const KILLS = killsFor(3);
const SECRET = "fault-suite-webhook-secret";
const REPOSITORY = "acme/git-kills";
const SOURCE = "git-kills";

interface Detail {
  pool: number;
  commit: string;
}

describe("config-registry killed with SIGKILL during Git imports", () => {
  let db: TestDatabase;
  let bus: TestBus;
  let redis: TestRedis;
  let repo: GitRepo;
  let proc: RegistryProcess | undefined;
  const cacheDir = join(tmpdir(), `nexus-git-kills-${randomBytes(6).toString("hex")}`);

  afterAll(async () => {
    await proc?.kill();
    await Promise.allSettled([db?.drop(), bus?.cleanup(), redis?.cleanup(), repo?.cleanup()]);
    await rm(cacheDir, { recursive: true, force: true });
  });

  it(
    `imports every acknowledged push once and in order across ${KILLS} kills`,
    async () => {
      [db, bus, redis, repo] = await Promise.all([
        createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
        createTestBus(),
        createTestRedis(),
        createGitRepo(),
      ]);
      const auth = registryAuth();
      const env = {
        ...auth.env,
        PORT: String(await freePort()),
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: REGISTRY_SCHEMA,
        NATS_PREFIX: bus.prefix,
        REDIS_KEY_PREFIX: redis.keyPrefix,
        SECRETS_MASTER_KEYS: `k1:${randomBytes(32).toString("base64")}`,
        GIT_CACHE_DIR: cacheDir,
        GIT_RECONCILE_SCHEDULE: "off",
      };
      const start = () => startRegistryProcess(env, { built: true });
      proc = await start();
      const url = proc.url;
      const send = (method: string, path: string, body?: unknown) =>
        fetch(`${url}${path}`, {
          method,
          headers: { ...auth.headers, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      expect((await send("POST", "/v1/namespaces", { name: NAMESPACE })).status).toBe(201);
      const created = await send(
        "POST",
        "/v1/git-sources",
        hookedSourceBody({ provider: "github", repository: REPOSITORY, webhookSecret: SECRET }, SOURCE, repo),
      );
      expect(created.status, await created.clone().text()).toBe(201);

      const history = new OperationHistory<Detail>();
      const commits: string[] = [];
      const deliveries = new Map<string, Delivery>();
      const post = (d: Delivery, detail: Detail) =>
        history.record("delivery", d.deliveryId, detail, () =>
          fetch(`${url}/v1/webhooks/github`, { method: "POST", headers: d.headers, body: d.body }),
        );
      let restarts = 0;
      const retriedIds = new Set<string>();
      let pushing = true;
      const pusher = (async () => {
        let seenRestarts = 0;
        // Until told to stop and the last push acknowledged: the layer must end at the last commit.
        while (pushing || history.operations.at(-1)?.outcome !== "ok") {
          if (restarts > seenRestarts) {
            seenRestarts = restarts;
            // GitHub's retry of what got no answer: same delivery id, same signed body.
            for (const op of history.of("unknown")) {
              if (retriedIds.has(op.key)) continue;
              retriedIds.add(op.key);
              await post(deliveries.get(op.key)!, op.detail);
            }
          }
          const pool = commits.length + 1;
          const push = await pushPoolChange(repo, REPOSITORY, pool);
          commits.push(push.after);
          const d = await githubPush(push, SECRET);
          deliveries.set(d.deliveryId, d);
          await post(d, { pool, commit: push.after });
          await sleep(150); // a team's pace, not a loop spawning git as fast as it can
        }
      })();

      const started = Date.now();
      const kills = await killRepeatedly({
        kills: KILLS,
        process: proc,
        restart: start,
        minMs: 800,
        maxMs: 2_500,
        onRestart: (p) => {
          proc = p;
          restarts++;
        },
      });
      proc = kills.process;
      // Two more pushes after the last restart, so the retries of the last kill go out.
      const afterLast = commits.length;
      await waitFor(
        async () => commits.length,
        (n) => n >= afterLast + 2,
        30_000,
        "pushes after the last restart",
      );
      pushing = false;
      await pusher;

      // Offline: the import rows and the layer against the history.
      const commitIndex = new Map(commits.map((c, i) => [c, i]));
      const lastIndex = commits.length - 1;
      const importRows = () =>
        db.pool
          .query<{ commit_sha: string; status: string; layers: { revision: number }[] }>(
            `SELECT commit_sha, status, layers FROM ${REGISTRY_SCHEMA}.git_imports ORDER BY created_at`,
          )
          .then((r) => r.rows);
      const acknowledged = history.of("ok").map((o) => commitIndex.get(o.detail.commit)!);
      const lastAcked = Math.max(...acknowledged);
      const rows = await waitFor(
        importRows,
        (r) => r.some((row) => (commitIndex.get(row.commit_sha) ?? -1) >= lastAcked),
        30_000,
        "the last acknowledged commit imported",
      );
      await new Promise((r) => setTimeout(r, 1_000)); // anything still to come would be a second import
      const final = await importRows();
      expect(final.length).toBeGreaterThanOrEqual(rows.length);

      const perCommit = new Map<string, number>();
      for (const row of final) perCommit.set(row.commit_sha, (perCommit.get(row.commit_sha) ?? 0) + 1);
      const twice = [...perCommit].filter(([, n]) => n > 1).map(([c]) => commitIndex.get(c));
      const notApplied = final.filter((r) => r.status !== "applied");
      const importedIndexes = final.map((r) => commitIndex.get(r.commit_sha) ?? -1);
      const uncovered = acknowledged.filter((i) => !importedIndexes.some((j) => j >= i));
      // Revisions in commit order: sorted by revision, the commits they came from only move forward.
      const byRevision = final
        .map((r) => ({ revision: r.layers[0]?.revision ?? 0, index: commitIndex.get(r.commit_sha) ?? -1 }))
        .sort((a, b) => a.revision - b.revision);
      const backwards = byRevision.filter((r, i) => i > 0 && r.index <= byRevision[i - 1]!.index);
      const topIndex = Math.max(...importedIndexes);
      const layer = (await (await send("GET", `/v1/namespaces/${NAMESPACE}/layers/staging`)).json()) as {
        content: unknown;
      };

      expect(twice).toEqual([]);
      expect(notApplied).toEqual([]);
      expect(uncovered).toEqual([]);
      expect(backwards).toEqual([]);
      expect([lastAcked, topIndex]).toEqual([lastIndex, lastIndex]);
      expect(layer.content).toEqual({ pool: commits.length });

      await recordFigure({
        fault: `config-registry SIGKILLed ${KILLS}× during Git webhook imports (real local repository)`,
        outcome:
          "no commit imported twice, every acknowledged push imported or superseded, revisions in commit order",
        figure: `${commits.length} pushes in ${((Date.now() - started) / 1000).toFixed(0)} s: ${history.count("ok")} ok, ${history.count("fail")} refused, ${history.count("unknown")} unknown (${retriedIds.size} retried under the same id); ${final.length} imports; ${restartFigure(kills.restartsMs)}`,
      });
    },
    60_000 + KILLS * 20_000,
  );
});
