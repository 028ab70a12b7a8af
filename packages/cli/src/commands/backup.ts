// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the backup service sends them (its OpenAPI document describes them)
/**
 * `nexus backup list|show|run|verify|restore`: the backup service's catalogue, backups taken now
 * (verified by a scratch restore), drills, and whole-system restores (a dry run unless --apply).
 * Runs are followed until they end, with progress on stderr. The service's URL comes from
 * --backup-url, NEXUS_BACKUP_URL or `backupUrl` in the config file.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import type { Io } from "../output/output.js";
import { positiveInt } from "./args.js";
import { BackupClient } from "./backup-client.js";
import {
  backupLine,
  backupSummary,
  namespaceRestorePlanText,
  namespaceRestoreText,
  progressLine,
  resolveBackupUrl,
  restorePlanText,
} from "./backup-fns.js";

const BACKUP_ID = /^bk-\d{8}T\d{6}Z-(full|incremental)-[0-9a-f]{6}$/;
const POLL_MS = 500;

function parseBackupId(value: string): string {
  if (!BACKUP_ID.test(value))
    throw usageError(
      `"${value}" is not a backup id (like bk-20261206T210501Z-full-3f9a2c)`,
      "id",
      "List them with: nexus backup list",
    );
  return value;
}

async function backupFor(io: Io, command: Command) {
  const ctx = contextOf(io, command);
  const settings = await ctx.settings();
  const file = await readFile(ctx.configPath, "utf8").then(
    (t) => JSON.parse(t) as Record<string, unknown>,
    () => null,
  );
  const url = resolveBackupUrl(command.optsWithGlobals<{ backupUrl?: string }>().backupUrl, io.env, file);
  if (!url)
    throw usageError(
      "no backup service configured",
      "backup-url",
      "Pass --backup-url or set NEXUS_BACKUP_URL.",
    );
  return { ctx, api: new BackupClient({ baseUrl: url, token: settings.token }) };
}

/**
 * Poll until `done` says the run ended, writing its progress to stderr: rewritten in place on a
 * terminal, a new line when it changes otherwise.
 */
async function follow(
  io: Io,
  fetchState: () => Promise<any>,
  done: (s: any) => boolean,
  progressOf: (s: any) => any,
) {
  const tty = io.stderr.isTTY === true;
  let last = "";
  for (;;) {
    const state = await fetchState();
    if (done(state)) {
      if (tty && last) io.stderr.write("\r\x1b[K");
      return state;
    }
    const text = progressLine(progressOf(state));
    if (text !== last) {
      io.stderr.write(tty ? `\r\x1b[K${text}` : `${text}\n`);
      last = text;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const backupEnded = (b: any) =>
  b.status !== "running" && !(b.status === "completed" && ["pending", "running"].includes(b.verification));
const verificationProgress = (b: any) =>
  b.status === "running"
    ? b.progress
    : { stage: b.verification === "running" ? "verifying by a scratch restore" : b.verification };

function failIfBad(b: any): void {
  if (b.status === "failed" || b.verification === "failed")
    throw new CliError(backupSummary(b), {
      exitCode: ExitCode.error,
      code: b.status === "failed" ? "backup_failed" : "verification_failed",
    });
}

export function registerBackup(program: Command, io: Io): void {
  const backup = program
    .command("backup")
    .description("backups of every service's data, verified by restoring them (the backup service)")
    .option(
      "--backup-url <url>",
      "backup service URL (env NEXUS_BACKUP_URL; or backupUrl in the config file)",
    );

  backup
    .command("list")
    .description("backups, newest first: id, status, verification, snapshot time, rows, size, storage")
    .option("--limit <n>", "how many", positiveInt(500), 20)
    .action(async (o: { limit: number }, c: Command) => {
      const { ctx, api } = await backupFor(io, c);
      const v = await api.list(o.limit);
      if (ctx.out.json) ctx.out.data(v);
      else
        ctx.out.text(v.items.map(backupLine).join("\n") || "No backups yet. Take one with: nexus backup run");
    });

  backup
    .command("show <id>")
    .description("one backup and its verification drills")
    .action(async (id: string, _o: object, c: Command) => {
      const { ctx, api } = await backupFor(io, c);
      const b = await api.get(parseBackupId(id));
      const drills = await api.verifications(b.id);
      if (ctx.out.json) return ctx.out.data({ ...b, verifications: drills.items });
      const lines = [backupSummary(b)];
      for (const d of drills.items)
        lines.push(
          `  drill ${d.startedAt}: ${d.status}${d.durationMs === null ? "" : ` in ${d.durationMs} ms`}${d.error ? ` (${d.error})` : ""}`,
        );
      ctx.out.text(lines.join("\n"));
    });

  backup
    .command("run")
    .description("take a full backup now and wait until it is written and verified")
    .option("--incremental", "only the registry's revisions since the newest backup (other tables in full)")
    .option("--no-wait", "start it and return at once")
    .action(async (o: { wait: boolean; incremental?: boolean }, c: Command) => {
      const { ctx, api } = await backupFor(io, c);
      const started = await api.run(o.incremental ? "incremental" : "full");
      if (!o.wait) {
        if (ctx.out.json) return ctx.out.data(started);
        return ctx.out.text(`Started backup ${started.id}. Follow it with: nexus backup show ${started.id}`);
      }
      const b = await follow(io, () => api.get(started.id), backupEnded, verificationProgress);
      if (ctx.out.json) ctx.out.data(b);
      else if (b.status !== "failed" && b.verification !== "failed") ctx.out.text(backupSummary(b));
      failIfBad(b);
    });

  backup
    .command("verify <id>")
    .description("restore a backup into a scratch schema and compare it with what it recorded (a drill)")
    .action(async (id: string, _o: object, c: Command) => {
      const { ctx, api } = await backupFor(io, c);
      const started = await api.verify(parseBackupId(id));
      const b = await follow(
        io,
        () => api.get(started.id),
        (x) => x.verification !== "running",
        verificationProgress,
      );
      if (ctx.out.json) ctx.out.data(b);
      else if (b.verification === "verified") ctx.out.text(backupSummary(b));
      failIfBad(b);
    });

  backup
    .command("restore <id>")
    .description(
      "put the whole system, or one namespace (--namespace, to a point in time with --at), back to a backup: a dry run that shows what would change, unless --apply",
    )
    .option("--namespace <ns>", "only this namespace: its layers as they were, as new registry revisions")
    .option("--at <time>", "with --namespace: the point in time (ISO 8601; default: the backup's point)")
    .option("--apply", "restore for real (a whole-system restore: stop the services first)")
    .action(async (id: string, o: { apply?: boolean; namespace?: string; at?: string }, c: Command) => {
      const { ctx, api } = await backupFor(io, c);
      const backupId = parseBackupId(id);
      if (o.at && !o.namespace)
        throw usageError("--at needs --namespace: the whole system is restored to the backup's point", "at");
      if (o.at !== undefined && Number.isNaN(Date.parse(o.at)))
        throw usageError(`"${o.at}" is not a time (like 2026-12-06T10:00:00Z)`, "at");
      if (o.namespace) return restoreNamespace(ctx, api, backupId, o.namespace, o.at, o.apply === true);
      if (!o.apply) {
        const plan = await api.restore(backupId, true);
        if (ctx.out.json) return ctx.out.data(plan);
        return ctx.out.text(restorePlanText(plan));
      }
      const started = await api.restore(backupId, false);
      const r = await follow(
        io,
        () => api.getRestore(started.id),
        (x) => x.status !== "running",
        (x) => x.progress,
      );
      if (ctx.out.json) ctx.out.data(r);
      if (r.status === "failed")
        throw new CliError(`Restore of ${backupId} failed, nothing was changed: ${r.error}`, {
          exitCode: ExitCode.error,
          code: "restore_failed",
        });
      if (!ctx.out.json)
        ctx.out.text(
          `Restored the system to backup ${backupId}: ${r.tables} tables, ${r.rows.toLocaleString("en-US")} rows. Start the services again.`,
        );
    });

  /** One namespace: the dry run's diffs, or the restore followed until the registry wrote it. */
  async function restoreNamespace(
    ctx: ReturnType<typeof contextOf>,
    api: BackupClient,
    backupId: string,
    namespace: string,
    at: string | undefined,
    apply: boolean,
  ) {
    const point = at ?? "the backup's point";
    io.stderr.write(
      `Reading the revision history of ${namespace} in backup ${backupId} (checksums first) for ${point}…\n`,
    );
    if (!apply) {
      const plan = await api.restoreNamespace(backupId, namespace, at, true);
      if (ctx.out.json) return ctx.out.data(plan);
      return ctx.out.text(namespaceRestorePlanText(plan));
    }
    const started = await api.restoreNamespace(backupId, namespace, at, false);
    const r = await follow(
      io,
      () => api.getRestore(started.id),
      (x) => x.status !== "running",
      (x) => x.progress,
    );
    if (ctx.out.json) ctx.out.data(r);
    if (r.status === "failed")
      throw new CliError(`Restore of namespace ${namespace} from ${backupId} failed: ${r.error}`, {
        exitCode: ExitCode.error,
        code: "restore_failed",
        hint: `See what the registry holds with: nexus history ${namespace} base`,
      });
    if (!ctx.out.json) ctx.out.text(namespaceRestoreText(r));
  }
}
