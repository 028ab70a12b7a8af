import type { GitImportProblem } from "@nexus/contracts";
import type { Queryable } from "@nexus/kit";
import type {
  BoundLayer,
  BoundLayerDto,
  GitImportDto,
  GitProvider,
  GitSource,
  ImportTrigger,
} from "./git-source-types.js";

interface SourceRow {
  id: string;
  name: string;
  provider: GitProvider;
  url: string;
  repository: string;
  namespaces: string[];
  environments: Record<string, string>;
  base_branch: string | null;
  base_path: string;
  environment_path: string;
  key_namespace: string;
  credentials: Record<string, unknown> | null;
  webhook_secret: Record<string, unknown> | null;
  signing_secret: Record<string, unknown> | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

const toSource = (r: SourceRow): GitSource => ({
  id: r.id,
  name: r.name,
  provider: r.provider,
  url: r.url,
  repository: r.repository,
  namespaces: r.namespaces,
  environments: r.environments,
  baseBranch: r.base_branch,
  layout: { base: r.base_path, environment: r.environment_path },
  keyNamespace: r.key_namespace,
  credentials: r.credentials,
  webhookSecret: r.webhook_secret,
  signingSecret: r.signing_secret,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface ImportRecord {
  id: string;
  sourceId: string;
  branch: string;
  commit: string;
  trigger: ImportTrigger;
  deliveryId: string | null;
  status: "applied" | "unchanged" | "failed";
  layers: { namespace: string; layer: string; path: string; revision: number }[];
  problems: GitImportProblem[];
  author: string | null;
  message: string | null;
}

export function createGitSourceStore() {
  return {
    async insert(q: Queryable, s: Omit<GitSource, "createdAt" | "updatedAt">): Promise<GitSource> {
      const res = await q.query<SourceRow>(
        `INSERT INTO git_sources (id, name, provider, url, repository, namespaces, environments, base_branch,
           base_path, environment_path, key_namespace, credentials, webhook_secret, signing_secret, created_by)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) RETURNING *`,
        [
          s.id,
          s.name,
          s.provider,
          s.url,
          s.repository,
          s.namespaces,
          JSON.stringify(s.environments),
          s.baseBranch,
          s.layout.base,
          s.layout.environment,
          s.keyNamespace,
          s.credentials,
          s.webhookSecret,
          s.signingSecret,
          s.createdBy,
        ],
      );
      return toSource(res.rows[0]!);
    },

    async update(q: Queryable, s: GitSource): Promise<GitSource> {
      const res = await q.query<SourceRow>(
        `UPDATE git_sources SET url = $2, repository = $3, namespaces = $4, environments = $5, base_branch = $6,
           base_path = $7, environment_path = $8, credentials = $9, webhook_secret = $10, signing_secret = $11,
           updated_at = now()
         WHERE id = $1 RETURNING *`,
        [
          s.id,
          s.url,
          s.repository,
          s.namespaces,
          JSON.stringify(s.environments),
          s.baseBranch,
          s.layout.base,
          s.layout.environment,
          s.credentials,
          s.webhookSecret,
          s.signingSecret,
        ],
      );
      return toSource(res.rows[0]!);
    },

    async remove(q: Queryable, id: string): Promise<void> {
      // The bindings go with it (cascade): a write to those layers reads them, so move their versions.
      await q.query(
        `UPDATE namespaces SET write_version = write_version + 1
         WHERE name IN (SELECT namespace FROM git_bound_layers WHERE source_id = $1)`,
        [id],
      );
      await q.query("DELETE FROM git_sources WHERE id = $1", [id]);
    },

    async findByName(
      q: Queryable,
      name: string,
      options: { lock?: boolean } = {},
    ): Promise<GitSource | null> {
      const res = await q.query<SourceRow>(
        `SELECT * FROM git_sources WHERE name = $1${options.lock ? " FOR UPDATE" : ""}`,
        [name],
      );
      return res.rows[0] ? toSource(res.rows[0]) : null;
    },

    async findById(q: Queryable, id: string): Promise<GitSource | null> {
      const res = await q.query<SourceRow>("SELECT * FROM git_sources WHERE id = $1", [id]);
      return res.rows[0] ? toSource(res.rows[0]) : null;
    },

    async list(q: Queryable): Promise<GitSource[]> {
      const res = await q.query<SourceRow>("SELECT * FROM git_sources ORDER BY name");
      return res.rows.map(toSource);
    },

    async findByProvider(q: Queryable, provider: GitProvider): Promise<GitSource[]> {
      const res = await q.query<SourceRow>({
        name: "git-sources-by-provider",
        text: "SELECT * FROM git_sources WHERE provider = $1 ORDER BY name",
        values: [provider],
      });
      return res.rows.map(toSource);
    },

    /** Layers already owned by another source (a layer follows one source at most). */
    async ownedElsewhere(q: Queryable, sourceId: string, layers: readonly BoundLayer[]) {
      const res = await q.query<{ namespace: string; layer: string; name: string }>(
        `SELECT b.namespace, b.layer, s.name FROM git_bound_layers b JOIN git_sources s ON s.id = b.source_id
         WHERE b.source_id <> $1 AND (b.namespace, b.layer) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
        [sourceId, layers.map((l) => l.namespace), layers.map((l) => l.layer)],
      );
      return res.rows;
    },

    /**
     * Make the source own exactly these layers; import state of layers it keeps is kept. A write
     * reads its namespace's bindings, so every namespace bound or unbound here moves its version.
     */
    async replaceBoundLayers(q: Queryable, sourceId: string, layers: readonly BoundLayer[]): Promise<void> {
      await q.query(
        `UPDATE namespaces SET write_version = write_version + 1
         WHERE name IN (SELECT namespace FROM git_bound_layers WHERE source_id = $1)
            OR name = ANY($2::text[])`,
        [sourceId, layers.map((l) => l.namespace)],
      );
      await q.query(
        `DELETE FROM git_bound_layers WHERE source_id = $1
           AND (namespace, layer) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
        [sourceId, layers.map((l) => l.namespace), layers.map((l) => l.layer)],
      );
      await q.query(
        `INSERT INTO git_bound_layers (namespace, layer, source_id, branch, path)
         SELECT n, l, $1, b, p FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(n, l, b, p)
         ON CONFLICT (namespace, layer) DO UPDATE SET branch = EXCLUDED.branch, path = EXCLUDED.path`,
        [
          sourceId,
          layers.map((l) => l.namespace),
          layers.map((l) => l.layer),
          layers.map((l) => l.branch),
          layers.map((l) => l.path),
        ],
      );
    },

    async boundLayers(q: Queryable, sourceId: string): Promise<BoundLayerDto[]> {
      const res = await q.query<{
        namespace: string;
        layer: string;
        branch: string;
        path: string;
        commit_sha: string | null;
        content_hash: string | null;
        revision: number | null;
        imported_at: Date | null;
        overridden_by: string | null;
        overridden_at: Date | null;
        override_revision: number | null;
      }>("SELECT * FROM git_bound_layers WHERE source_id = $1 ORDER BY namespace, layer", [sourceId]);
      return res.rows.map((r) => ({
        namespace: r.namespace,
        layer: r.layer,
        branch: r.branch,
        path: r.path,
        commit: r.commit_sha,
        contentHash: r.content_hash,
        revision: r.revision,
        importedAt: iso(r.imported_at),
        overriddenBy: r.overridden_by,
        overriddenAt: iso(r.overridden_at),
        overrideRevision: r.override_revision,
      }));
    },

    async markImported(
      q: Queryable,
      rows: { namespace: string; layer: string; commit: string; hash: string; revision: number }[],
    ): Promise<void> {
      if (rows.length === 0) return;
      await q.query(
        `UPDATE git_bound_layers b SET commit_sha = t.c, content_hash = t.h, revision = t.r, imported_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) AS t(n, l, c, h, r)
         WHERE b.namespace = t.n AND b.layer = t.l`,
        [
          rows.map((r) => r.namespace),
          rows.map((r) => r.layer),
          rows.map((r) => r.commit),
          rows.map((r) => r.hash),
          rows.map((r) => r.revision),
        ],
      );
    },

    async markOverridden(q: Queryable, namespace: string, layer: string, actor: string, revision: number) {
      await q.query(
        `UPDATE git_bound_layers SET overridden_by = $3, overridden_at = now(), override_revision = $4
         WHERE namespace = $1 AND layer = $2`,
        [namespace, layer, actor, revision],
      );
    },

    async branchHeads(q: Queryable, sourceId: string): Promise<Map<string, string>> {
      const res = await q.query<{ branch: string; commit_sha: string }>(
        "SELECT branch, commit_sha FROM git_branch_heads WHERE source_id = $1",
        [sourceId],
      );
      return new Map(res.rows.map((r) => [r.branch, r.commit_sha]));
    },

    async setBranchHead(q: Queryable, sourceId: string, branch: string, sha: string): Promise<void> {
      await q.query(
        `INSERT INTO git_branch_heads (source_id, branch, commit_sha) VALUES ($1, $2, $3)
         ON CONFLICT (source_id, branch) DO UPDATE SET commit_sha = EXCLUDED.commit_sha, imported_at = now()`,
        [sourceId, branch, sha],
      );
    },

    /** False when this delivery was seen before (a replay). */
    async recordDelivery(q: Queryable, provider: GitProvider, deliveryId: string): Promise<boolean> {
      const res = await q.query(
        "INSERT INTO git_deliveries (provider, delivery_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [provider, deliveryId],
      );
      return res.rowCount === 1;
    },

    async insertImport(q: Queryable, r: ImportRecord): Promise<void> {
      await q.query(
        `INSERT INTO git_imports (id, source_id, branch, commit_sha, trigger, delivery_id, status, layers, problems,
           author, message) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
        [
          r.id,
          r.sourceId,
          r.branch,
          r.commit,
          r.trigger,
          r.deliveryId,
          r.status,
          JSON.stringify(r.layers),
          JSON.stringify(r.problems),
          r.author,
          r.message,
        ],
      );
    },

    async listImports(q: Queryable, sourceId: string, limit: number): Promise<GitImportDto[]> {
      const res = await q.query<{
        id: string;
        branch: string;
        commit_sha: string;
        trigger: ImportTrigger;
        delivery_id: string | null;
        status: GitImportDto["status"];
        layers: GitImportDto["layers"];
        problems: GitImportProblem[];
        author: string | null;
        message: string | null;
        created_at: Date;
      }>("SELECT * FROM git_imports WHERE source_id = $1 ORDER BY created_at DESC, id LIMIT $2", [
        sourceId,
        limit,
      ]);
      return res.rows.map((r) => ({
        id: r.id,
        branch: r.branch,
        commit: r.commit_sha,
        trigger: r.trigger,
        deliveryId: r.delivery_id,
        status: r.status,
        layers: r.layers,
        problems: r.problems,
        author: r.author,
        message: r.message,
        createdAt: r.created_at.toISOString(),
      }));
    },
  };
}
export type GitSourceStore = ReturnType<typeof createGitSourceStore>;

/** The newest import attempt of a commit on a branch (the reconcile skips a commit that failed on its files). */
export async function lastImportOf(
  q: Queryable,
  sourceId: string,
  branch: string,
): Promise<{ commit: string; status: string; fileProblems: boolean } | null> {
  const res = await q.query<{ commit_sha: string; status: string; file_problems: boolean }>(
    `SELECT commit_sha, status, EXISTS (SELECT 1 FROM jsonb_array_elements(problems) p WHERE p->>'path' <> '') AS file_problems
     FROM git_imports WHERE source_id = $1 AND branch = $2 ORDER BY created_at DESC LIMIT 1`,
    [sourceId, branch],
  );
  const r = res.rows[0];
  return r ? { commit: r.commit_sha, status: r.status, fileProblems: r.file_problems } : null;
}
