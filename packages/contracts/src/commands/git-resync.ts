import { z } from "zod";
import { GitImportProblem } from "../events/git-import-failed.js";
import { CommandErrorReply } from "./command-error.js";

/**
 * Request/reply command served by the config-registry: import every layout file of a Git source
 * at its branch heads now, like `POST /v1/git-sources/{name}/resync` (all branches, or one). The
 * drift-detector sends it to repair source drift in `remediate` mode. The subject names the source.
 */
export const GIT_RESYNC_COMMAND = "nexus.git.cmd.resync" as const;

export const GitResyncCommand = z.object({
  schemaVersion: z.literal(1),
  source: z.string().min(1).max(63).describe("The Git source's name; must be the subject's"),
  branch: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe("One branch; absent: every branch the source follows"),
  requestedBy: z.string().min(1).max(200),
  reason: z.string().max(1000).optional(),
});
export type GitResyncCommand = z.infer<typeof GitResyncCommand>;

export const GitResyncOutcome = z.object({
  branch: z.string(),
  importId: z.string().nullable(),
  status: z.enum(["applied", "unchanged", "failed", "skipped"]),
  commit: z.string().nullable(),
  problems: z.array(GitImportProblem),
});
export type GitResyncOutcome = z.infer<typeof GitResyncOutcome>;

export const GitResyncReply = z.union([
  z.object({ ok: z.literal(true), results: z.array(GitResyncOutcome) }),
  CommandErrorReply,
]);
export type GitResyncReply = z.infer<typeof GitResyncReply>;

export const gitResyncSubject = (d: Pick<GitResyncCommand, "source">) => `${GIT_RESYNC_COMMAND}.${d.source}`;
