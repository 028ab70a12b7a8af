import { z } from "zod";

export const GIT_PUSHED = "nexus.git.pushed" as const;

/** A Git source's id (uuid): the subject's last token. */
export const GitSourceId = z.uuid();
/** A full commit id (SHA-1 or SHA-256, lowercase hex). */
export const CommitSha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "a full commit id in hex");

/**
 * A verified webhook reported a push to the repository of a Git source. The registry imports from
 * this event (not in the webhook request), so a slow fetch never times out the provider. One event
 * per bound source: two sources on one repository each get their own.
 */
export const GitPushed = z.object({
  schemaVersion: z.literal(1),
  sourceId: GitSourceId,
  sourceName: z
    .string()
    .min(1)
    .max(63)
    .optional()
    .describe(
      "The source's name when the push arrived (what pipeline triggers name it by); absent in events published before it was carried",
    ),
  provider: z.enum(["github", "gitlab", "gitea", "bitbucket"]),
  repository: z.string().min(1).describe("The provider's full name of the repository (`owner/name`)"),
  ref: z.string().min(1).describe("`refs/heads/<branch>`"),
  before: z.string().describe("The branch head before the push (zeros for a new branch)"),
  after: CommitSha,
  changedFiles: z
    .array(z.string())
    .nullable()
    .describe("Paths added, modified or removed by the push; null when the provider does not list them all"),
  deliveryId: z.string().min(1),
});
export type GitPushed = z.infer<typeof GitPushed>;

export const gitPushedSubject = (d: Pick<GitPushed, "sourceId">) => `${GIT_PUSHED}.${d.sourceId}`;
