import { randomUUID } from "node:crypto";
import { GIT_IMPORT_FAILED, GIT_IMPORTED, type GitImportProblem } from "@nexus/contracts";
import {
  AppError,
  type Bus,
  enqueueEvents,
  isTransactionConflict,
  type Logger,
  type Pool,
  type PoolClient,
  prepareOutboxRows,
  processOnce,
  withTransaction,
} from "@nexus/kit";
import { parseContent } from "../documents/content-fns.js";
import type { WriteService } from "../writes/write-service.js";
import type { WriteContext } from "../writes/write-types.js";
import type { GitClient } from "./git-client.js";
import {
  boundLayersOf,
  contentTypeOfPath,
  gitRevisionSource,
  importOrder,
  layersToImport,
} from "./git-source-fns.js";
import type { GitSourceService } from "./git-source-service.js";
import { type GitSourceStore, type ImportRecord, lastImportOf } from "./git-source-store.js";
import type { BoundLayer, GitSource, ImportTrigger } from "./git-source-types.js";

export const GIT_IMPORT_CONSUMER = "config-registry-git-import";
const IMPORT_ATTEMPTS = 3;

export interface ImportRequest {
  source: GitSource;
  branch: string;
  /** A commit id (webhook) or the branch name (fetch its head). */
  what: string;
  /** Files the push touched; null reads every layout file of the branch. */
  changedFiles: readonly string[] | null;
  /** The branch head the push started from (webhooks): a push not following the last import is not applied as is. */
  before?: string | undefined;
  trigger: ImportTrigger;
  deliveryId?: string | undefined;
  /** The git.pushed event this import comes from: applied at most once. */
  eventId?: string | undefined;
}

export interface ImportOutcome {
  importId: string | null;
  status: "applied" | "unchanged" | "failed" | "skipped";
  commit: string | null;
  problems: GitImportProblem[];
}

interface PreparedWrite {
  bound: BoundLayer;
  content: Record<string, unknown>;
}

const problemOf = (bound: BoundLayer | null, err: unknown): GitImportProblem => {
  const app = err instanceof AppError ? err : null;
  const details = (app?.details ?? {}) as { line?: unknown };
  return {
    path: bound?.path ?? "",
    namespace: bound?.namespace ?? null,
    layer: bound?.layer ?? null,
    line: typeof details.line === "number" ? details.line : null,
    code: app?.code ?? "import_failed",
    reason: err instanceof Error ? err.message : String(err),
  };
};

/**
 * Import one commit of a Git source: fetch it (shallow, into the source's cache), read and parse
 * the layer files it touched, then write them all in ONE transaction through the normal write
 * path (schema validation included) under the namespaces' row locks. Any problem rolls the whole
 * commit back; the attempt is recorded either way, with `git.imported` or `git.import-failed`.
 */
export function createGitImportService(deps: {
  pool: Pool;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  git: GitClient;
  store: GitSourceStore;
  sources: Pick<GitSourceService, "authOf">;
  writes: Pick<WriteService, "writeAll" | "publish">;
  wakeOutbox: () => void;
  logger: Pick<Logger, "info" | "warn">;
}) {
  const { pool, store, git } = deps;

  async function record(client: PoolClient, r: ImportRecord, source: GitSource): Promise<void> {
    await store.insertImport(client, r);
    const common = {
      schemaVersion: 1 as const,
      importId: r.id,
      sourceId: source.id,
      source: source.name,
      branch: r.branch,
      commit: r.commit,
      trigger: r.trigger,
    };
    const rows =
      r.status === "failed"
        ? prepareOutboxRows(deps.bus, GIT_IMPORT_FAILED, [{ ...common, problems: r.problems }])
        : prepareOutboxRows(deps.bus, GIT_IMPORTED, [{ ...common, layers: r.layers }]);
    await enqueueEvents(client, rows);
  }

  /** Runs in `client`'s transaction; a failed write rolls back to the savepoint, then the failure is recorded. */
  async function apply(
    client: PoolClient,
    req: ImportRequest,
    commit: string,
    ctx: WriteContext,
    writes: PreparedWrite[],
    problems: GitImportProblem[],
  ): Promise<{ outcome: ImportOutcome; changed: Parameters<WriteService["publish"]>[0] }> {
    const base: ImportRecord = {
      id: randomUUID(),
      sourceId: req.source.id,
      branch: req.branch,
      commit,
      trigger: req.trigger,
      deliveryId: req.deliveryId ?? null,
      status: "failed",
      layers: [],
      problems,
      author: ctx.author,
      message: ctx.message,
    };
    if (problems.length === 0) {
      await client.query("SAVEPOINT git_import");
      const changed: Parameters<WriteService["publish"]>[0] = [];
      const imported: { namespace: string; layer: string; commit: string; hash: string; revision: number }[] =
        [];
      const layers: ImportRecord["layers"] = [];
      let failed: GitImportProblem | null = null;
      for (const w of writes) {
        try {
          const { results, changed: heads } = await deps.writes.writeAll(client, [
            { namespace: w.bound.namespace, layer: w.bound.layer, content: w.content, ctx },
          ]);
          const result = results[0]!;
          changed.push(...heads);
          imported.push({
            namespace: w.bound.namespace,
            layer: w.bound.layer,
            commit,
            hash: result.hash,
            revision: result.revision,
          });
          if (result.changed)
            layers.push({
              namespace: w.bound.namespace,
              layer: w.bound.layer,
              path: w.bound.path,
              revision: result.revision,
            });
        } catch (err) {
          if (!(err instanceof AppError) || !err.expected) throw err;
          failed = problemOf(w.bound, err);
          break;
        }
      }
      if (!failed) {
        await store.markImported(client, imported);
        await store.setBranchHead(client, req.source.id, req.branch, commit);
        const r: ImportRecord = { ...base, status: layers.length > 0 ? "applied" : "unchanged", layers };
        await record(client, r, req.source);
        return { outcome: { importId: r.id, status: r.status, commit, problems: [] }, changed };
      }
      await client.query("ROLLBACK TO SAVEPOINT git_import");
      problems = [failed];
    }
    const r: ImportRecord = { ...base, problems };
    await record(client, r, req.source);
    return { outcome: { importId: r.id, status: "failed", commit, problems }, changed: [] };
  }

  /**
   * An import locks every namespace it writes, in namespace order, and a concurrent commit that
   * re-resolves readers locks those too: Postgres can break such a cycle by failing the import.
   * Nothing of it was stored, so it goes again (a few times) instead of failing the whole push.
   */
  async function retriedOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!isTransactionConflict(err) || n >= IMPORT_ATTEMPTS) throw err;
        deps.logger.warn({ err, attempt: n }, "a Git import met a concurrent change; importing again");
      }
    }
  }

  async function inTransaction(
    req: ImportRequest,
    work: (
      client: PoolClient,
    ) => Promise<{ outcome: ImportOutcome; changed: Parameters<WriteService["publish"]>[0] }>,
  ): Promise<ImportOutcome> {
    const done = await retriedOnConflict(() =>
      req.eventId
        ? processOnce(pool, GIT_IMPORT_CONSUMER, req.eventId, work)
        : withTransaction(pool, work).then((result) => ({ applied: true as const, result })),
    );
    if (!done.applied) return { importId: null, status: "skipped", commit: null, problems: [] };
    await deps.writes.publish(done.result.changed);
    deps.wakeOutbox();
    return done.result.outcome;
  }

  return {
    async run(req: ImportRequest): Promise<ImportOutcome> {
      const { source, branch } = req;
      const fail = (commit: string, problem: GitImportProblem) =>
        inTransaction(req, (client) =>
          apply(client, req, commit, { author: "git", message: "", source: "git" }, [], [problem]),
        );
      // A push that does not start where the last import ended arrived out of order (an older
      // delivery after a newer one) or after missed ones: importing its commit could move the
      // layers back, so take the branch's tip as it is now, whole layout, instead.
      let what = req.what;
      let changedFiles = req.changedFiles;
      if (req.trigger === "webhook" && req.before !== undefined) {
        const last = (await store.branchHeads(pool, source.id)).get(branch);
        if (last !== undefined && last !== req.before) {
          what = branch;
          changedFiles = null;
        }
      }
      let commit: string;
      try {
        commit = await git.fetch(source.id, source.url, await deps.sources.authOf(pool, source), what);
      } catch (err) {
        deps.logger.warn(
          { source: source.name, branch, err: (err as Error).message },
          "could not fetch a Git source",
        );
        return fail(req.what, { ...problemOf(null, err), code: "fetch_failed" });
      }
      const heads = await store.branchHeads(pool, source.id);
      const first = !heads.has(branch);
      if (req.trigger !== "resync" && heads.get(branch) === commit)
        return { importId: null, status: "skipped", commit, problems: [] };
      if (req.trigger === "reconcile") {
        const last = await lastImportOf(pool, source.id, branch);
        if (last?.commit === commit && last.status === "failed" && last.fileProblems)
          return { importId: null, status: "skipped", commit, problems: [] };
      }
      const everything = first || req.trigger !== "webhook" || changedFiles === null;
      const wanted = importOrder(
        layersToImport(boundLayersOf(source), branch, everything ? null : changedFiles),
      );
      const [files, info] = await Promise.all([
        git.readFiles(
          source.id,
          commit,
          wanted.map((b) => b.path),
        ),
        git.commitInfo(source.id, commit),
      ]);
      const writes: PreparedWrite[] = [];
      const problems: GitImportProblem[] = [];
      for (const bound of wanted) {
        const bytes = files.get(bound.path) ?? null;
        // A file the push removed empties its layer; a file a full import does not find is left alone.
        if (bytes === null) {
          if (!everything) writes.push({ bound, content: {} });
          continue;
        }
        try {
          writes.push({ bound, content: parseContent(bytes, contentTypeOfPath(bound.path)) });
        } catch (err) {
          problems.push(problemOf(bound, err));
        }
      }
      const ctx: WriteContext = {
        author: info.author || "git",
        message: info.message,
        source: gitRevisionSource(source.repository, commit),
      };
      const outcome = await inTransaction(req, (client) => apply(client, req, commit, ctx, writes, problems));
      if (outcome.status === "failed")
        deps.logger.warn(
          { source: source.name, branch, commit, problems: outcome.problems.length },
          "a Git import failed; nothing from the commit was applied",
        );
      else
        deps.logger.info(
          { source: source.name, branch, commit, status: outcome.status },
          "imported a Git commit",
        );
      return outcome;
    },
  };
}
export type GitImportService = ReturnType<typeof createGitImportService>;
