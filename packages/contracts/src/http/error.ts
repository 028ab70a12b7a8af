import { z } from "zod";

/** The one error body every Nexus HTTP API returns. */
export const ApiErrorBody = z.object({
  error: z.object({
    code: z.string().describe("Machine-readable, stable, snake_case"),
    message: z.string(),
    field: z.string().optional().describe("The failing input field or JSON pointer"),
    details: z.unknown().optional(),
    requestId: z.string(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;
