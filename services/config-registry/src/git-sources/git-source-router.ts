import { ApiErrorBody, GitImportProblem } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { authorOf } from "../http/request-context.js";
import { resyncSource } from "./git-command.js";
import type { GitImportService } from "./git-import-service.js";
import type { GitSourceService } from "./git-source-service.js";
import { toGitSourceDto } from "./git-source-service.js";
import type { GitSourceStore } from "./git-source-store.js";
import {
  BoundLayerDto,
  BranchName,
  CreateGitSourceBody,
  GitImportDto,
  GitSourceDto,
  GitSourceParams,
  UpdateGitSourceBody,
} from "./git-source-types.js";

const tags = ["git-sources"];
const errors = {
  400: ApiErrorBody,
  404: ApiErrorBody,
  409: ApiErrorBody,
  422: ApiErrorBody,
  503: ApiErrorBody,
};
const admin = { role: "admin" } as const;

const ImportOutcomeDto = z.object({
  branch: z.string(),
  importId: z.string().nullable(),
  status: z.enum(["applied", "unchanged", "failed", "skipped"]),
  commit: z.string().nullable(),
  problems: z.array(GitImportProblem),
});

export function registerGitSourceRoutes(
  app: App,
  deps: {
    sources: GitSourceService;
    store: Pick<GitSourceStore, "listImports" | "boundLayers">;
    imports: Pick<GitImportService, "run">;
    pool: Parameters<GitSourceStore["listImports"]>[0];
  },
): void {
  const { sources } = deps;

  app.get(
    "/v1/git-sources",
    {
      config: { access: admin },
      schema: {
        tags,
        summary: "List Git sources",
        response: { 200: z.object({ items: z.array(GitSourceDto) }), ...errors },
      },
    },
    async () => ({ items: (await sources.list()).map(toGitSourceDto) }),
  );

  app.post(
    "/v1/git-sources",
    {
      config: { access: admin },
      schema: {
        tags,
        summary: "Bind namespaces to a Git repository",
        description:
          "Credentials and the webhook secret are stored encrypted and never returned. The bound layers then follow the repository: API writes to them answer 409 unless `?override=git`.",
        body: CreateGitSourceBody,
        response: { 201: GitSourceDto, ...errors },
      },
    },
    async (request, reply) => {
      const source = await sources.create(request.body, authorOf(request));
      reply.header("location", `/v1/git-sources/${source.name}`);
      return reply.status(201).send(toGitSourceDto(source));
    },
  );

  app.get(
    "/v1/git-sources/:name",
    {
      config: { access: admin },
      schema: {
        tags,
        summary: "Read a Git source",
        params: GitSourceParams,
        response: { 200: GitSourceDto, ...errors },
      },
    },
    async (request) => toGitSourceDto(await sources.find(request.params.name)),
  );

  app.patch(
    "/v1/git-sources/:name",
    {
      config: { access: admin },
      schema: {
        tags,
        summary: "Change a Git source (null removes credentials or a secret)",
        params: GitSourceParams,
        body: UpdateGitSourceBody,
        response: { 200: GitSourceDto, ...errors },
      },
    },
    async (request) => toGitSourceDto(await sources.update(request.params.name, request.body)),
  );

  app.delete(
    "/v1/git-sources/:name",
    {
      config: { access: admin },
      schema: {
        tags,
        summary: "Delete a Git source (its layers keep their content and become writable)",
        params: GitSourceParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await sources.remove(request.params.name);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/v1/git-sources/:name/imports",
    {
      config: { access: admin },
      schema: {
        tags,
        summary: "Import attempts, newest first, with each failure's file, line and reason",
        params: GitSourceParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: { 200: z.object({ items: z.array(GitImportDto) }), ...errors },
      },
    },
    async (request) => {
      const source = await sources.find(request.params.name);
      return { items: await deps.store.listImports(deps.pool, source.id, request.query.limit) };
    },
  );

  app.get(
    "/v1/git-sources/:name/layers",
    {
      config: { access: admin },
      schema: {
        tags,
        summary: "The layers a source owns: file, last imported commit and content hash, last API override",
        description:
          "What source-drift checks compare: a layer whose hash differs from `contentHash` was changed outside Git.",
        params: GitSourceParams,
        response: { 200: z.object({ items: z.array(BoundLayerDto) }), ...errors },
      },
    },
    async (request) => {
      const source = await sources.find(request.params.name);
      return { items: await deps.store.boundLayers(deps.pool, source.id) };
    },
  );

  app.post(
    "/v1/git-sources/:name/resync",
    {
      config: { access: admin },
      schema: {
        tags,
        summary: "Import every layout file at the branch heads now (all branches, or one)",
        params: GitSourceParams,
        body: z.strictObject({ branch: BranchName.optional() }).optional(),
        response: { 200: z.object({ results: z.array(ImportOutcomeDto) }), ...errors },
      },
    },
    async (request) => {
      const source = await sources.find(request.params.name);
      return { results: await resyncSource(deps.imports, source, request.body?.branch) };
    },
  );
}
