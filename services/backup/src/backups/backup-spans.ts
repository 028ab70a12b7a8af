import { inWorkSpan } from "@nexus/kit";
import type { BackupDto, VerificationDto } from "./backup-types.js";

/**
 * Backup steps as spans of their own (children of the request that asked for them, or a trace of
 * their own on a schedule), with what each step came to.
 */
export const traceTakeBackup = (b: BackupDto, trigger: string, take: () => Promise<BackupDto>) =>
  inWorkSpan(
    "take backup",
    { attributes: { "nexus.backup.id": b.id, "nexus.backup.kind": b.kind, "nexus.backup.trigger": trigger } },
    async (span) => {
      const taken = await take();
      span.setAttributes({
        "nexus.backup.status": taken.status,
        "nexus.backup.tables": taken.tables ?? 0,
        "nexus.backup.rows": taken.rows ?? 0,
      });
      return taken;
    },
  );

export const traceVerifyBackup = (b: BackupDto, verify: () => Promise<VerificationDto>) =>
  inWorkSpan(
    "verify backup",
    { attributes: { "nexus.backup.id": b.id, "nexus.backup.kind": b.kind } },
    async (span) => {
      const verification = await verify();
      span.setAttribute("nexus.backup.verification", verification.status);
      return verification;
    },
  );
