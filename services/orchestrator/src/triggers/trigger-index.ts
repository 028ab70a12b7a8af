import type { Queryable } from "@nexus/kit";
import type { PipelineStore } from "../pipelines/pipeline-store.js";

/**
 * Which (namespace, source) pairs a pipeline triggered by `config.changed` promotes from, kept in
 * memory and checked against `pipeline_index.version` once per batch. Every statement that changes
 * `pipelines` moves that version in its own transaction (the migration's trigger), and the check is
 * made after the batch's events arrived, so after the writes they announce committed: a pipeline
 * committed before a write is always seen when that write's event is handled, on every instance,
 * with no notification to wait for and no timing to trust. A batch costs one one-row read; the
 * pipelines themselves are read again only when the version moved.
 */
export interface TriggerIndex {
  sources(db: Queryable): Promise<ReadonlySet<string>>;
}

export function createTriggerIndex(deps: {
  pipelines: Pick<PipelineStore, "triggerIndex" | "indexVersion">;
}): TriggerIndex {
  let memory: { version: number; sources: Set<string> } | null = null;
  return {
    async sources(db) {
      const version = await deps.pipelines.indexVersion(db);
      if (memory?.version === version) return memory.sources;
      // Version and rows in one statement (one snapshot): at least as new as the version just read.
      const read = await deps.pipelines.triggerIndex(db);
      if (!memory || read.version >= memory.version) memory = read;
      return read.sources;
    },
  };
}
