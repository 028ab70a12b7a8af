import { ApiErrorBody, BackupId } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { actorOf } from "../http/actor.js";
import type { BackupService } from "./backup-service.js";
import {
  BackupDto,
  NamespaceRestorePlanDto,
  RestoreBody,
  RestoreDto,
  RestorePlanDto,
  RunBackupBody,
  VerificationDto,
} from "./backup-types.js";
import type { NamespaceRestores } from "./namespace-restore-service.js";

const tags = ["backups"];
const errors = {
  400: ApiErrorBody,
  404: ApiErrorBody,
  409: ApiErrorBody,
  422: ApiErrorBody,
  503: ApiErrorBody,
};
const IdParams = z.object({ id: BackupId });
// Backups hold every namespace's data (secrets sealed): admins only.
const admin = { access: { role: "admin" as const } };

/** Runs in the background report their failure through the catalogue; this keeps them off the log as unhandled. */
const background = (p: Promise<unknown>) => void p.catch(() => undefined);

export function registerBackupRoutes(
  app: App,
  deps: { backups: BackupService; namespaceRestores: NamespaceRestores },
): void {
  const { backups, namespaceRestores } = deps;

  app.get(
    "/v1/backups",
    {
      config: admin,
      schema: {
        tags,
        summary: "Backups, newest first (pruned ones left out)",
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: { 200: z.object({ items: z.array(BackupDto) }), ...errors },
      },
    },
    async (request) => ({ items: await backups.list(request.query.limit) }),
  );

  app.post(
    "/v1/backups",
    {
      config: admin,
      schema: {
        tags,
        summary: "Take a backup now; it is verified by a scratch restore when written",
        description:
          "Answers 202 at once; follow `progress` and `verification` at the Location. One backup runs at a time (409 backup_running).",
        body: RunBackupBody,
        response: { 202: BackupDto, ...errors },
      },
    },
    async (request, reply) => {
      const run = await backups.run({
        kind: request.body.kind,
        trigger: "api",
        requestedBy: actorOf(request),
      });
      background(run.done);
      reply.header("location", `/v1/backups/${run.started.id}`);
      return reply.status(202).send(run.started);
    },
  );

  app.get(
    "/v1/backups/:id",
    {
      config: admin,
      schema: {
        tags,
        summary: "One backup: status, progress, sizes, verification",
        params: IdParams,
        response: { 200: BackupDto, ...errors },
      },
    },
    async (request) => backups.get(request.params.id),
  );

  app.get(
    "/v1/backups/:id/verifications",
    {
      config: admin,
      schema: {
        tags,
        summary: "The backup's verification drills, newest first, with each table's result",
        params: IdParams,
        response: { 200: z.object({ items: z.array(VerificationDto) }), ...errors },
      },
    },
    async (request) => ({ items: await backups.verifications(request.params.id) }),
  );

  app.post(
    "/v1/backups/:id/verify",
    {
      config: admin,
      schema: {
        tags,
        summary: "Verify the backup again: restore it into a scratch schema and compare",
        description:
          "Answers 202; the outcome is recorded on the backup and published as backup.verified or backup.failed.",
        params: IdParams,
        response: { 202: BackupDto, ...errors },
      },
    },
    async (request, reply) => {
      const run = await backups.verify(request.params.id);
      background(run.done);
      return reply.status(202).send(run.started);
    },
  );

  app.post(
    "/v1/backups/:id/restore",
    {
      config: admin,
      schema: {
        tags,
        summary:
          "Restore the whole system, or one namespace to a point in time, from this backup (dry run by default)",
        description: [
          "Whole system (no `namespace`): with dryRun (the default) nothing changes: every part's checksum is checked and the answer lists each table's rows now and in the backup, and any problem. With dryRun false the restore starts (202) after the same checks; stop the services first. A corrupt part or a missing backup key refuses it (422) before any row changes.",
          "One namespace (`namespace`, optional `at`, default the backup's point): each layer gets the content of its newest revision in the backup's history created at or before `at` (a layer with no revision by then is emptied), written by the config registry as new revisions with source `restore:<backup id>@<at>`; layers created after the backup stay as they are. The dry run (200) shows each layer's diff (secrets as ***). An `at` after the backup or before the namespace's oldest revision in it is refused (422, field `at`); with dryRun false the history is read and checked before the answer (202), the registry write follows.",
        ].join("\n\n"),
        params: IdParams,
        body: RestoreBody,
        response: { 200: z.union([RestorePlanDto, NamespaceRestorePlanDto]), 202: RestoreDto, ...errors },
      },
    },
    async (request, reply) => {
      const { namespace, at, dryRun } = request.body;
      if (namespace) {
        const req = { backupId: request.params.id, namespace, at, requestedBy: actorOf(request) };
        if (dryRun) return reply.status(200).send(await namespaceRestores.plan(req));
        const run = await namespaceRestores.start(req);
        background(run.done);
        reply.header("location", `/v1/restores/${run.started.id}`);
        return reply.status(202).send(run.started);
      }
      if (dryRun) return reply.status(200).send(await backups.planRestore(request.params.id));
      const run = await backups.restore(request.params.id, actorOf(request));
      background(run.done);
      reply.header("location", `/v1/restores/${run.started.id}`);
      return reply.status(202).send(run.started);
    },
  );

  app.get(
    "/v1/restores/:id",
    {
      config: admin,
      schema: {
        tags,
        summary: "One restore: status and progress",
        params: z.object({ id: z.uuid() }),
        response: { 200: RestoreDto, ...errors },
      },
    },
    async (request) => backups.getRestore(request.params.id),
  );
}
