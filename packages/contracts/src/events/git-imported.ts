import { z } from "zod";
import { CommitSha, GitSourceId } from "./git-pushed.js";

export const GIT_IMPORTED = "nexus.git.imported" as const;

/**
 * A commit of a Git source was imported: every layer file it changed was written as a revision
 * with source `git:<repo>@<sha>` in one transaction (each resolved change also has its own
 * `config.changed`). `layers` lists only the layers whose content changed.
 */
export const GitImported = z.object({
  schemaVersion: z.literal(1),
  importId: z.uuid(),
  sourceId: GitSourceId,
  source: z.string().min(1).describe("The Git source's name"),
  branch: z.string().min(1),
  commit: CommitSha,
  trigger: z.enum(["webhook", "reconcile", "resync"]),
  layers: z.array(
    z.object({ namespace: z.string(), layer: z.string(), path: z.string(), revision: z.number().int() }),
  ),
});
export type GitImported = z.infer<typeof GitImported>;

export const gitImportedSubject = (d: Pick<GitImported, "sourceId">) => `${GIT_IMPORTED}.${d.sourceId}`;
