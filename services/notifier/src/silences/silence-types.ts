import { z } from "zod";
import { Matcher } from "../routing/routing-types.js";

export const CreateSilenceBody = z
  .object({
    matchers: z.array(Matcher).min(1).max(32),
    startsAt: z.iso.datetime({ offset: true }).optional().describe("Default: now"),
    endsAt: z.iso.datetime({ offset: true }),
    comment: z.string().min(1).max(2000),
  })
  .strict();
export type CreateSilenceBody = z.infer<typeof CreateSilenceBody>;

export const EditSilenceBody = z
  .object({
    matchers: z.array(Matcher).min(1).max(32).optional(),
    startsAt: z.iso.datetime({ offset: true }).optional().describe("Only while the silence has not started"),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    comment: z.string().min(1).max(2000).optional().describe("The silence's own comment"),
    changeComment: z.string().max(1000).optional().describe("Why it was changed (kept with the version)"),
  })
  .strict();
export type EditSilenceBody = z.infer<typeof EditSilenceBody>;

export const SilenceDto = z.object({
  id: z.string(),
  matchers: z.array(Matcher),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  createdAt: z.string(),
  state: z.enum(["pending", "active", "expired"]),
  expiredBy: z.string().nullable(),
});
export type SilenceDto = z.infer<typeof SilenceDto>;

/** A silence as a version keeps it (no `state`: that depends on when you look). */
export const SilenceRecord = z.object({
  id: z.string(),
  matchers: z.array(Matcher),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  expiredBy: z.string().nullable(),
});
export type SilenceRecord = z.infer<typeof SilenceRecord>;

export const SilenceChange = z.object({
  field: z.enum(["matchers", "startsAt", "endsAt", "comment", "expiredBy"]),
  from: z.unknown(),
  to: z.unknown(),
});
export type SilenceChange = z.infer<typeof SilenceChange>;

export const SilenceVersionDto = z.object({
  version: z.number().int(),
  silenceId: z.string(),
  action: z.enum(["created", "edited", "expired"]),
  silence: SilenceRecord.describe("The silence as it stood after this change"),
  changes: z.array(SilenceChange).describe("What this change did, field by field (from null: created)"),
  author: z.string(),
  comment: z.string(),
  createdAt: z.string(),
});
export type SilenceVersionDto = z.infer<typeof SilenceVersionDto>;

/** A silence as grouping and muting read it (alerts/grouping-fns.ts). */
export interface SilenceView {
  id: string;
  matchers: readonly Matcher[];
  startsAt: Date;
  endsAt: Date;
}
