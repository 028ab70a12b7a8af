import { z } from "zod";

/**
 * The `ok:false` branch of a command reply: the same status/code/field taxonomy as the HTTP API
 * (the shape ConfigSetReply spells out inline).
 */
export const CommandErrorReply = z.object({
  ok: z.literal(false),
  error: z.object({
    statusCode: z.number().int(),
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    details: z.unknown().optional(),
  }),
});
export type CommandErrorReply = z.infer<typeof CommandErrorReply>;
