/**
 * Seeding the registry's tables for the curves, fast: history and namespaces by SQL bulk inserts
 * (copies of rows the registry itself wrote, so every row is one it could have written); readers of
 * a namespace through the API (each write records its `${ref:}` dependencies).
 */
import type pg from "pg";
import { http } from "../run-resources.js";

/**
 * Brings the history of `namespace`'s production layer to `total` revisions: copies of its head
 * revision under the next revision numbers; the namespace's head, its write version (the
 * registry's compare-and-swap) and the layer's head revision move to the last copy.
 */
export async function seedHistory(pool: pg.Pool, namespace: string, total: number): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ head: number; layer: number; count: number }>(
      `SELECT n.head_revision AS head, l.revision AS layer,
              (SELECT count(*)::int FROM revisions r WHERE r.namespace = n.name) AS count
       FROM namespaces n JOIN layers l ON l.namespace = n.name AND l.layer = 'production'
       WHERE n.name = $1 FOR UPDATE OF n`,
      [namespace],
    );
    const { head, layer, count } = rows[0]!;
    const add = total - count;
    if (add > 0) {
      await client.query(
        `INSERT INTO revisions (namespace, revision, layer, content, hash, diff, author, message, source)
         SELECT r.namespace, $2 + g, r.layer, r.content, r.hash, r.diff, r.author, 'seeded history', r.source
         FROM revisions r, generate_series(1, $3) AS g
         WHERE r.namespace = $1 AND r.revision = $4`,
        [namespace, head, add, layer],
      );
      await client.query(
        "UPDATE namespaces SET head_revision = $2, write_version = write_version + 1 WHERE name = $1",
        [namespace, head + add],
      );
      await client.query("UPDATE layers SET revision = $2 WHERE namespace = $1 AND layer = 'production'", [
        namespace,
        head + add,
      ]);
    }
    await client.query("COMMIT");
    return Math.max(total, count);
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Brings the number of namespaces to `total` with copies of `template` (its namespace row, layers,
 * revisions and resolved heads) named `fill-NNNNNN`.
 */
export async function seedNamespaces(pool: pg.Pool, template: string, total: number): Promise<number> {
  const { rows } = await pool.query<{ count: number; fills: number }>(
    "SELECT count(*)::int AS count, count(*) FILTER (WHERE name LIKE 'fill-%')::int AS fills FROM namespaces",
  );
  const { count, fills } = rows[0]!;
  const add = total - count;
  if (add <= 0) return count;
  const name = "'fill-' || lpad(g::text, 6, '0')";
  const range = "generate_series($2::int + 1, $2::int + $3::int) AS g";
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(
      `INSERT INTO namespaces (name, description, owners, environments, variables, head_revision)
       SELECT ${name}, n.description, n.owners, n.environments, n.variables, n.head_revision
       FROM namespaces n, ${range} WHERE n.name = $1`,
      [template, fills, add],
    );
    await client.query(
      `INSERT INTO revisions (namespace, revision, layer, content, hash, diff, author, message, source)
       SELECT ${name}, r.revision, r.layer, r.content, r.hash, r.diff, r.author, r.message, r.source
       FROM revisions r, ${range} WHERE r.namespace = $1`,
      [template, fills, add],
    );
    await client.query(
      `INSERT INTO layers (namespace, layer, revision, content, hash)
       SELECT ${name}, l.layer, l.revision, l.content, l.hash FROM layers l, ${range} WHERE l.namespace = $1`,
      [template, fills, add],
    );
    await client.query(
      `INSERT INTO resolved_heads (namespace, environment, revision, hash, body)
       SELECT ${name}, h.environment, h.revision, h.hash, h.body FROM resolved_heads h, ${range} WHERE h.namespace = $1`,
      [template, fills, add],
    );
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  await pool.query("ANALYZE");
  return total;
}

/**
 * Brings the readers of `source` to `total` namespaces `reader-NNNN`, each created through the API
 * with a base layer that reads `${ref:<source>:deployment.seq}`: the value every benchmark write
 * changes, so every write to `source` changes what each reader resolves to (in production).
 */
export async function seedReaders(
  registryUrl: string,
  source: string,
  from: number,
  total: number,
): Promise<void> {
  const next = { i: from };
  const worker = async () => {
    for (;;) {
      const i = next.i++;
      if (i >= total) return;
      const name = `reader-${String(i + 1).padStart(4, "0")}`;
      await http("POST", `${registryUrl}/v1/namespaces`, {
        name,
        description: "reads the fan-in source",
        owners: ["bench"],
      });
      const layer = {
        service: { name },
        upstream: { seq: `\${ref:${source}:deployment.seq}`, note: `\${ref:${source}:deployment.note}` },
      };
      // Readers written at once touch each other's dependency set: the registry answers 409
      // concurrent_change ("send it again"), and so do we.
      for (let attempt = 1; ; attempt++) {
        try {
          await http("PUT", `${registryUrl}/v1/namespaces/${name}/layers/base`, layer);
          break;
        } catch (err) {
          if (attempt >= 10 || !String(err).includes("concurrent_change")) throw err;
          await new Promise((r) => setTimeout(r, 20 * attempt));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}
