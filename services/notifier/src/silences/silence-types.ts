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
