import { z } from "zod";
import { GitSourceId } from "./git-pushed.js";

export const GIT_IMPORT_FAILED = "nexus.git.import-failed" as const;

/** Why one file of a commit could not be imported (never its content: it may hold secrets). */
export const GitImportProblem = z.object({
  path: z.string().describe("The file in the repository; empty when the problem is not one file's"),
  namespace: z.string().nullable(),
  layer: z.string().nullable(),
  line: z.number().int().nullable(),
  code: z.string(),
  reason: z.string(),
});
export type GitImportProblem = z.infer<typeof GitImportProblem>;

/**
 * A commit of a Git source could not be imported; nothing from it was applied (one push, one
 * atomic import). The problems are also kept by the registry (GET /v1/git-sources/{name}/imports).
 */
export const GitImportFailed = z.object({
  schemaVersion: z.literal(1),
  importId: z.uuid(),
  sourceId: GitSourceId,
  source: z.string().min(1),
  branch: z.string().min(1),
  commit: z.string().describe("The commit id, or the ref when it could not be fetched"),
  trigger: z.enum(["webhook", "reconcile", "resync"]),
  problems: z.array(GitImportProblem).min(1),
});
export type GitImportFailed = z.infer<typeof GitImportFailed>;

export const gitImportFailedSubject = (d: Pick<GitImportFailed, "sourceId">) =>
  `${GIT_IMPORT_FAILED}.${d.sourceId}`;
