// biome-ignore-all lint/suspicious/noExplicitAny: bodies as the backup service sends them (its OpenAPI document describes them)
/** Pure helpers of `nexus backup`: where the service is, and how runs and plans read in words. */
import { usageError } from "../exit-codes.js";

/** The backup service's URL from --backup-url, NEXUS_BACKUP_URL or `backupUrl` in the config file. */
export function resolveBackupUrl(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown> | null,
): string | null {
  const fromFile = typeof file?.backupUrl === "string" ? file.backupUrl : undefined;
  const [raw, where] = flag
    ? [flag, "--backup-url"]
    : env.NEXUS_BACKUP_URL
      ? [env.NEXUS_BACKUP_URL, "NEXUS_BACKUP_URL"]
      : fromFile
        ? [fromFile, "the config file's backupUrl"]
        : [undefined, undefined];
  if (!raw || !where) return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw usageError(`${where} is not a URL`, "backup-url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw usageError(`${where} must start with http:// or https://`, "backup-url");
  if (url.username || url.password || url.search || url.hash)
    throw usageError(`${where} must not carry credentials, a query or a fragment`, "backup-url");
  return url.toString().replace(/\/+$/, "");
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "-";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

const count = (n: number | undefined | null) => (n ?? 0).toLocaleString("en-US");

/** One line of progress for a running backup, verification or restore. */
export function progressLine(p: any): string {
  const parts = [p?.stage ?? "working"];
  if (p?.tablesTotal) parts.push(`${count(p.tablesDone)}/${count(p.tablesTotal)} tables`);
  if (p?.rows) parts.push(`${count(p.rows)} rows`);
  if (p?.bytes) parts.push(formatBytes(p.bytes));
  if (p?.current) parts.push(`now ${p.current}`);
  return parts.join(", ");
}

/** A backup as one line of a list. */
export function backupLine(b: any): string {
  const when = b.snapshotAt ?? b.startedAt;
  const verification = b.status === "completed" ? b.verification : "";
  return [b.id, b.status, verification, when, `${count(b.rows)} rows`, formatBytes(b.bytes), b.storage]
    .filter(Boolean)
    .join("  ");
}

/** The outcome of a run in words. */
export function backupSummary(b: any): string {
  if (b.status === "failed") return `Backup ${b.id} failed: ${b.error}`;
  const head = `${b.kind === "incremental" ? `Incremental backup ${b.id} (on ${b.parentId})` : `Backup ${b.id}`}: ${count(b.tables)} tables, ${count(b.rows)} rows, ${formatBytes(b.bytes)} in ${b.storage}, snapshot at ${b.snapshotAt}`;
  const encrypted = b.encryptionKeyId
    ? ` Encrypted with backup key "${b.encryptionKeyId}".`
    : " Not encrypted.";
  const verified =
    b.verification === "verified"
      ? ` Verified by a restore into a scratch schema at ${b.verifiedAt}.`
      : b.verification === "failed"
        ? ` Verification FAILED: ${b.verificationError}`
        : ` Verification ${b.verification}.`;
  return `${head}.${encrypted}${verified}`;
}

/** A dry run's plan: each table's rows now and in the backup, and what stops the restore. */
export function restorePlanText(plan: any): string {
  const lines = [`Restoring the system to backup ${plan.backupId} (snapshot at ${plan.snapshotAt}) would:`];
  for (const t of plan.tables) {
    const now = t.rowsNow === null ? "missing" : count(t.rowsNow);
    const change = t.rowsNow === t.rowsInBackup ? "same count" : `${now} → ${count(t.rowsInBackup)}`;
    lines.push(`  ${t.table}: ${change}`);
  }
  if (plan.problems.length > 0) {
    lines.push("It cannot run:");
    for (const p of plan.problems) lines.push(`  ${p}`);
  } else lines.push("Every part's checksum matches. Stop the services, then run again with --apply.");
  return lines.join("\n");
}

const layerSource = (l: any) =>
  l.fromRevision === null
    ? "no revision by then: emptied"
    : `revision ${l.fromRevision} of ${l.fromCreatedAt}`;

/** A namespace restore's dry run: per layer where its content comes from and what would change. */
export function namespaceRestorePlanText(plan: any): string {
  const lines = [
    `Restoring namespace ${plan.namespace} to ${plan.at} from backup ${plan.backupId} (${count(plan.revisionsRead)} revisions in its history) would:`,
  ];
  for (const l of plan.layers) {
    lines.push(
      `  ${l.layer} (${layerSource(l)}): ${l.changed ? `${l.operations.length} change${l.operations.length === 1 ? "" : "s"}` : "unchanged"}`,
    );
    for (const op of l.operations) {
      const value = op.value === undefined ? "" : ` ${JSON.stringify(op.value)}`;
      lines.push(`      ${op.op} ${op.path}${value}`);
    }
  }
  lines.push(
    plan.layers.some((l: any) => l.changed)
      ? `Each changed layer gets a new revision with source restore:${plan.label}. Run again with --apply.`
      : "Nothing would change.",
  );
  return lines.join("\n");
}

/** A completed namespace restore in words. */
export function namespaceRestoreText(r: any): string {
  const changed = (r.layers ?? []).filter((l: any) => l.changed);
  const lines = [
    `Restored namespace ${r.namespace} to ${r.at ?? "the backup's point"} from backup ${r.backupId}: ${changed.length} of ${(r.layers ?? []).length} layers changed.`,
  ];
  for (const l of r.layers ?? [])
    lines.push(`  ${l.layer}: ${l.changed ? `now revision ${l.revision}` : "unchanged"} (${layerSource(l)})`);
  return lines.join("\n");
}
