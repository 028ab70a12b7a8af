import { GIT_IMPORT_FAILED, GIT_IMPORTED } from "@nexus/contracts";
import type { Bus, Consumption } from "@nexus/kit";
import { SOURCE_DURABLE, type SourceDriftService } from "./source-service.js";

/**
 * git.imported and git.import-failed (one durable each, NATS 2.9), one at a time. config.changed
 * reaches source drift through the detector's one durable for it (changes/change-consumer.ts).
 */
export function consumeSourceEvents(deps: {
  bus: Pick<Bus, "consume">;
  sources: SourceDriftService;
}): Promise<Consumption> {
  return deps.bus.consume(
    [GIT_IMPORTED, GIT_IMPORT_FAILED],
    { durable: SOURCE_DURABLE, concurrency: 1 },
    async (event) => {
      if (event.type === GIT_IMPORTED)
        await deps.sources.imported(
          event.id,
          event.data,
          new Date(Date.parse(event.time ?? "") || Date.now()),
        );
      else await deps.sources.importFailed(event.id, event.data);
    },
  );
}
