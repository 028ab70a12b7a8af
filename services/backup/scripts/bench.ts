/**
 * Figures for backups: a registry schema holding N revisions (BENCH_REVISIONS, default 100,000,
 * inserted by SQL), backed up (bundle written to a temporary directory), verified (checksums,
 * then a restore into a scratch schema), beside `pg_dump -Fc` of the same schema, in the same run.
 *   pnpm --filter @nexus/backup exec tsx scripts/bench.ts
 * Uses its own database (dropped at the end) on DATABASE_URL's server; needs no NATS or Redis.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createPool, migrate, newSealingKey, parseSealingKeys } from "@nexus/kit";
import pg from "pg";
import { checkParts, partsNeeded } from "../src/bundle/bundle-reader.js";
import { writeBundle } from "../src/bundle/bundle-writer.js";
import { verifyInScratch } from "../src/restore/scratch-verify.js";
import { createLocalStorage } from "../src/storage/local-storage.js";

const REVISIONS = Number(process.env.BENCH_REVISIONS ?? 100_000);
const server = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
const name = `nexus_bench_backup_${randomBytes(4).toString("hex")}`;
const urlOf = (db: string) => Object.assign(new URL(server.toString()), { pathname: `/${db}` }).toString();
const admin = new pg.Client({ connectionString: urlOf("postgres") });
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await fn();
  return [v, performance.now() - t];
}

await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const dir = await mkdtemp(join(tmpdir(), "nexus-backup-bench-"));
const pool = createPool({ connectionString: urlOf(name), schema: "config_registry" });
try {
  await migrate({
    databaseUrl: urlOf(name),
    schema: "config_registry",
    dir: fileURLToPath(new URL("../../config-registry/migrations", import.meta.url)),
  });
  const namespaces = 100;
  await pool.query(
    `INSERT INTO namespaces (name, environments, head_revision)
     SELECT 'ns-' || g, '{development,staging,production}', $1 / $2 FROM generate_series(1, $2) g`,
    [REVISIONS, namespaces],
  );
  await pool.query(
    `INSERT INTO revisions (namespace, revision, layer, content, hash, diff, author, source)
     SELECT 'ns-' || (1 + (g - 1) % $2), 1 + (g - 1) / $2, 'base',
            jsonb_build_object('db', jsonb_build_object('pool', g, 'host', 'db-' || g || '.internal'),
                               'features', jsonb_build_object('flag_a', g % 2 = 0, 'note', repeat('x', 200))),
            md5(g::text) || md5((g * 7)::text), '[]'::jsonb, 'bench', 'api'
       FROM generate_series(1, $1) g`,
    [REVISIONS, namespaces],
  );
  await pool.query("VACUUM ANALYZE config_registry.revisions");
  const sourceBytes = Number(
    (await pool.query("SELECT pg_total_relation_size('config_registry.revisions') AS n")).rows[0].n,
  );

  const storage = createLocalStorage(dir);
  const keys = parseSealingKeys(newSealingKey("bench")).keys!;
  const report = async (label: string, encrypted: boolean) => {
    const client = await pool.connect();
    try {
      const id = `bk-20260101T00000${encrypted ? 1 : 0}Z-full-000000`;
      const [{ manifest }, backupMs] = await timed(() =>
        writeBundle({
          client,
          storage,
          id,
          kind: "full",
          schemas: ["config_registry"],
          keys: encrypted ? keys : null,
        }),
      );
      const [, checkMs] = await timed(() => checkParts(storage, partsNeeded([manifest])));
      const [check, restoreMs] = await timed(() =>
        verifyInScratch({ client, storage, chain: [manifest], keys: encrypted ? keys : null }),
      );
      if (check.mismatches.length > 0)
        throw new Error(`verification failed: ${JSON.stringify(check.mismatches)}`);
      const bytes = manifest.tables.reduce((n, t) => n + t.part.bytes, 0);
      console.log(
        `${label}: backup ${seconds(backupMs)} (${(REVISIONS / (backupMs / 1000)).toFixed(0)} revisions/s), ${mb(bytes)}; ` +
          `verified in ${seconds(checkMs + restoreMs)} (checksums ${seconds(checkMs)}, scratch restore + compare ${seconds(restoreMs)})`,
      );
    } finally {
      client.release();
    }
  };

  console.log(`${REVISIONS.toLocaleString("en-US")} revisions, table and indexes ${mb(sourceBytes)} on disk`);
  await report("nexus backup (gzip)", false);
  await report("nexus backup (gzip + AES-256-GCM)", true);
  const dump = join(dir, "dump.pgc");
  const [, dumpMs] = await timed(() =>
    promisify(execFile)("pg_dump", ["-Fc", "-n", "config_registry", "-f", dump, urlOf(name)]),
  );
  console.log(
    `pg_dump -Fc (same schema, same run): ${seconds(dumpMs)} (${(REVISIONS / (dumpMs / 1000)).toFixed(0)} revisions/s), ${mb((await stat(dump)).size)}; no verification`,
  );
} finally {
  await pool.end();
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
