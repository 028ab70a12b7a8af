import { type AccessScope, ConflictError, NotFoundError, type Pool, withTransaction } from "@nexus/kit";
import { pipelineScope } from "../http/access.js";
import { checkCommands, checkHookUrls, checkPipeline } from "./pipeline-fns.js";
import type { PipelineStore } from "./pipeline-store.js";
import type { PipelineDto, PipelineVersionDto } from "./pipeline-types.js";

/** Checks the caller may act on a scope; throws the kit's 403 otherwise. */
export type Authorize = (scope: AccessScope) => void;

export function createPipelineService(deps: {
  pool: Pool;
  pipelines: PipelineStore;
  /** Programs `run` steps may start. */
  allowedCommands: readonly string[];
  /** URL prefixes `http-hook` steps may call. */
  allowedHookUrls: readonly string[];
  /** After a pipeline is created, changed or deleted (what is consumed may change with it); must not throw. */
  onChanged?: () => Promise<void>;
}) {
  const { pool, pipelines } = deps;
  const check = (input: unknown) => {
    const def = checkPipeline(input);
    checkCommands(def, deps.allowedCommands);
    checkHookUrls(def, deps.allowedHookUrls);
    return def;
  };

  const mustGet = async (name: string): Promise<PipelineDto> => {
    const found = await pipelines.get(pool, name);
    if (!found)
      throw new NotFoundError("pipeline_not_found", `no pipeline named '${name}'`, { field: "name" });
    return found;
  };

  return {
    list: () => pipelines.list(pool),
    get: mustGet,

    async versions(name: string): Promise<PipelineVersionDto[]> {
      await mustGet(name);
      return pipelines.versions(pool, name);
    },

    async create(input: unknown, actor: string, authorize: Authorize): Promise<PipelineDto> {
      const def = check(input);
      authorize(pipelineScope(def));
      if (!(await pipelines.insert(pool, def, actor)))
        throw new ConflictError("pipeline_exists", `a pipeline named '${def.name}' exists`, {
          field: "name",
        });
      await deps.onChanged?.();
      return mustGet(def.name);
    },

    /** A new version; runs already started keep the version they started with. */
    async update(name: string, input: unknown, actor: string, authorize: Authorize): Promise<PipelineDto> {
      const def = check(input);
      if (def.name !== name)
        throw new ConflictError("name_mismatch", `the document names '${def.name}', the path '${name}'`, {
          field: "name",
        });
      authorize(pipelineScope(def));
      await withTransaction(pool, async (tx) => {
        const current = await pipelines.get(tx, name, { forUpdate: true });
        if (!current)
          throw new NotFoundError("pipeline_not_found", `no pipeline named '${name}'`, { field: "name" });
        authorize(pipelineScope(current));
        await pipelines.addVersion(tx, def, current.version + 1, actor);
      });
      await deps.onChanged?.();
      return mustGet(name);
    },

    async delete(name: string, authorize: Authorize): Promise<void> {
      authorize(pipelineScope(await mustGet(name)));
      await pipelines.delete(pool, name);
      await deps.onChanged?.();
    },
  };
}
export type PipelineService = ReturnType<typeof createPipelineService>;
