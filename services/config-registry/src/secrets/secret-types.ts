import { z } from "zod";

/**
 * Whether a read may show secrets in plaintext: `true`/`false` for all of them, or per namespace
 * (a resolved document may hold other namespaces' secrets through `${secret:other:path}`).
 */
export type RevealSecrets = boolean | ((namespace: string) => boolean);

export interface RevealOption {
  /** Default false: every secret is `"***"`. */
  revealSecrets?: RevealSecrets;
}

export const RotationReportDto = z.object({
  activeKeyId: z.string().describe("The master key every data key is wrapped with afterwards"),
  dataKeys: z.number().int().describe("Data keys in the registry (one or more per namespace with secrets)"),
  rewrapped: z.number().int().describe("Re-wrapped by this run"),
  alreadyCurrent: z.number().int().describe("Already wrapped with the active master key"),
  failed: z.array(
    z.object({
      dataKeyId: z.number().int(),
      namespace: z.string(),
      masterKeyId: z.string(),
      reason: z.string(),
    }),
  ),
});
export type RotationReport = z.infer<typeof RotationReportDto>;
