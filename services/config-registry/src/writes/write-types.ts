import type { WriteResultDto } from "@nexus/contracts";
import type { AuditEntry, OutboxPlace, OutboxRows, Queryable } from "@nexus/kit";
import { z } from "zod";
import type { LayerHead } from "../layers/layer-types.js";
import type { ResolvedHead } from "../resolve/resolve-types.js";
import type { HeldWriteState } from "./write-state-cache.js";

/** Who wrote, why, and through what: recorded on the revision and carried by the event. */
export interface WriteContext {
  author: string;
  message: string;
  source: string;
  /** The layer revision the writer based its change on (If-Match); undefined = don't check. */
  expectedRevision?: number | undefined;
  traceparent?: string | undefined;
  /** The content's sealed secrets were sealed by this registry (an approved change request). */
  trustSealed?: boolean | undefined;
  /** Write a layer that follows a Git source anyway (`?override=git`); recorded as source drift. */
  gitOverride?: boolean | undefined;
  /** The request's audit line, stored by the commit that applies the write (none if it changes nothing). */
  audit?: AuditEntry | undefined;
}

/** A write's outcome as answered (200); the shape lives in @nexus/contracts, which the CLI reads. */
export type WriteResult = WriteResultDto;

export const WriteQuery = z.object({
  message: z.string().max(1000).optional().describe("Why this change was made; recorded on the revision"),
  override: z
    .literal("git")
    .optional()
    .describe("`git`: write a layer that follows a Git source anyway (recorded; reported as source drift)"),
});

export const RollbackBody = z.strictObject({
  revision: z.coerce.number().int().min(1).max(2_147_483_647),
  message: z.string().max(1000).optional(),
});

export const RestoreBody = z.strictObject({
  label: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9._:@+-]+$/, "letters, digits and . _ : @ + - only")
    .describe("What is restored, e.g. `<backup id>@<time>`; each revision's source is `restore:<label>`"),
  layers: z
    .record(z.string(), z.record(z.string(), z.unknown()))
    .describe(
      "Layer name (`base` or an environment) → the content to restore; layers not named stay as they are",
    ),
  message: z.string().max(1000).optional(),
  dryRun: z.boolean().default(false).describe("Only report what would change"),
});

export const RestoreResultDto = z.object({
  namespace: z.string(),
  label: z.string(),
  dryRun: z.boolean(),
  layers: z.array(
    z.object({
      layer: z.string(),
      changed: z.boolean(),
      revision: z
        .number()
        .int()
        .describe("The new revision (or the current one when unchanged or a dry run)"),
      operations: z
        .array(z.unknown())
        .describe("RFC 6902 from the current layer to the restored one; secrets `***`"),
    }),
  ),
});

/** A committed (or unchanged) write, and what follows from it. */
export interface WriteOutcome {
  result: WriteResult;
  changed: ResolvedHead[];
  outbox?: OutboxRows;
  /** Where the commit put each event in its subject's order (for the relay: `handOver`). */
  places?: OutboxPlace[];
  overrodeGit?: boolean;
  /** The namespace's state after this commit, for the next write (only once it is committed). */
  held?: HeldWriteState;
}

/** The new content of the layer, from its current head (read outside any transaction). */
export type MakeContent = (
  head: LayerHead | null,
  q: Queryable,
) => Promise<Record<string, unknown>> | Record<string, unknown>;
