import type { Logger, Pool } from "@nexus/kit";
import pg from "pg";
import type { PipelineStore } from "../pipelines/pipeline-store.js";

/**
 * Which (namespace, source) pairs a pipeline triggered by `config.changed` promotes from, kept in
 * memory so a batch of changes that starts nothing costs no read (most batches: pipelines are few
 * and change through this service's API only).
 *
 * When memory is trusted: the copy was read after the connection below was LISTENing on
 * `<schema>_pipelines` and while it stayed connected, and it is at least as new as every version a
 * notification announced. Every statement that changes `pipelines` moves `pipeline_index.version`
 * in its own transaction and notifies at its commit (the migration's trigger), so:
 * - a change made through this instance is exact: the service calls `changed()` after its commit
 *   and before it answers, and from then until a read started after it returns, batches ask
 *   Postgres (`sources()` is null);
 * - a change made through another instance stops this one trusting its copy when the notification
 *   arrives, which Postgres sends to an idle listening session at the change's commit: before the
 *   caller got its answer, long before a config write it then makes has gone through the registry,
 *   its outbox and JetStream to this consumer. That is an argument from the length of that chain,
 *   not a proof; what can be detected is handled without it: a listening connection that errors or
 *   closes stops trust until it is back and a fresh read is made, and every `checkMs` the version
 *   is read (one cheap statement) in case a silently dead connection missed notifications.
 */
export interface TriggerIndex {
  /** The sources (`sourceKey`), or null when memory is not trusted now: ask Postgres. */
  sources(): ReadonlySet<string> | null;
  /** A pipeline changed through this instance (committed): distrust memory until read again. */
  changed(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createTriggerIndex(deps: {
  pool: Pool;
  databaseUrl: string;
  schema: string;
  pipelines: Pick<PipelineStore, "triggerIndex" | "indexVersion">;
  logger: Logger;
  /** The safety net's period. Default 10 s. */
  checkMs?: number;
  /** A lost listening connection is tried again after this long. Default 1 s. */
  retryMs?: number;
}): TriggerIndex {
  const channel = `${deps.schema}_pipelines`;
  const checkMs = deps.checkMs ?? 10_000;
  const retryMs = deps.retryMs ?? 1_000;
  let memory: { version: number; sources: Set<string> } | null = null;
  /** Bumped by everything that makes a read in progress unusable (a local change, a lost listener). */
  let epoch = 0;
  /** The highest version a notification announced. */
  let announced = 0;
  let client: pg.Client | undefined;
  let listening = false;
  let stopped = true;
  let loading: Promise<void> | undefined;
  let again = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let checkTimer: NodeJS.Timeout | undefined;

  const distrust = () => {
    memory = null;
    epoch += 1;
  };

  /** Read the index; keep it only if nothing made it stale while the read was out. */
  const load = (): Promise<void> => {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        if (stopped || !listening) return;
        const at = epoch;
        try {
          const read = await deps.pipelines.triggerIndex(deps.pool);
          if (at === epoch && listening && read.version >= announced) memory = read;
          else again = true;
        } catch (err) {
          deps.logger.warn({ err }, "could not read the pipeline trigger index; batches ask Postgres");
          return;
        }
      } while (again && !stopped);
    })().finally(() => {
      loading = undefined;
    });
    return loading;
  };

  const dropClient = (why: string, err?: unknown) => {
    const c = client;
    client = undefined;
    listening = false;
    distrust();
    c?.removeAllListeners("notification");
    void c?.end().catch(() => undefined);
    if (stopped) return;
    deps.logger.warn({ err }, `pipeline trigger index: ${why}; batches ask Postgres until it is back`);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void listen(), retryMs);
    retryTimer.unref();
  };

  const listen = async (): Promise<void> => {
    if (stopped || client) return;
    const c = new pg.Client({
      connectionString: deps.databaseUrl,
      keepAlive: true,
      application_name: `nexus-orchestrator:${channel}`.slice(0, 63),
    });
    client = c;
    c.on("error", (err) => {
      if (client === c) dropClient("the listening connection failed", err);
    });
    c.on("end", () => {
      if (client === c) dropClient("the listening connection closed");
    });
    c.on("notification", (n) => {
      if (n.channel !== channel || client !== c) return;
      const v = Number(n.payload);
      if (!Number.isFinite(v) || v > announced) announced = Number.isFinite(v) ? v : Number.MAX_SAFE_INTEGER;
      if (!memory || memory.version < announced) {
        memory = null;
        void load();
      }
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      if (client !== c) return;
      listening = true;
      epoch += 1;
      await load();
    } catch (err) {
      if (client === c) dropClient("could not listen", err);
    }
  };

  const check = async () => {
    if (stopped || !memory) return;
    try {
      const v = await deps.pipelines.indexVersion(deps.pool);
      if (memory && v > memory.version) {
        deps.logger.warn(
          { version: v, held: memory.version },
          "pipeline trigger index: a change was not announced; reading it again",
        );
        if (v > announced) announced = v;
        memory = null;
        void load();
      }
    } catch {
      // Postgres away: batches fail on their own reads and are redelivered.
    }
  };

  return {
    sources: () => memory?.sources ?? null,
    changed() {
      distrust();
      void load();
    },
    async start() {
      stopped = false;
      await listen();
      checkTimer = setInterval(() => void check(), checkMs);
      checkTimer.unref();
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(checkTimer);
      await loading;
      const c = client;
      client = undefined;
      listening = false;
      memory = null;
      await c?.end().catch(() => undefined);
    },
  };
}
