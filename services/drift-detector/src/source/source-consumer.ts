import { CONFIG_CHANGED, GIT_IMPORT_FAILED, GIT_IMPORTED } from "@nexus/contracts";
import type { Bus, Consumption } from "@nexus/kit";
import { SOURCE_DURABLE, type SourceDriftService } from "./source-service.js";

/**
 * config.changed, git.imported and git.import-failed on one durable, one at a time: an override
 * and the import that later repairs it must be seen in the order the registry published them.
 */
export function consumeSourceEvents(deps: {
  bus: Pick<Bus, "consume">;
  sources: SourceDriftService;
}): Promise<Consumption> {
  return deps.bus.consume(
    [CONFIG_CHANGED, GIT_IMPORTED, GIT_IMPORT_FAILED],
    { durable: SOURCE_DURABLE, concurrency: 1 },
    async (event) => {
      if (event.type === CONFIG_CHANGED) await deps.sources.changed(event.id, event.data);
      else if (event.type === GIT_IMPORTED)
        await deps.sources.imported(
          event.id,
          event.data,
          new Date(Date.parse(event.time ?? "") || Date.now()),
        );
      else await deps.sources.importFailed(event.id, event.data);
    },
  );
}
