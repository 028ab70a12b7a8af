import pg from "pg";
import type { BusLogger } from "../bus/types.js";

/** Advisory-lock class for Nexus singletons; the second key is a hash of the lease name. */
const LOCK_CLASS = 0x4e58;

export interface LeaseConfig {
  databaseUrl: string;
  /** Unique per singleton and per schema, e.g. `outbox-relay:config_registry`. */
  name: string;
  /** LISTENed on while the lease is held. */
  channel: string;
  retryMs: number;
  logger: BusLogger;
  onAcquired(): void;
  onLost(): void;
  onNotify(): void;
}

export interface Lease {
  /** Resolves after the first attempt, holding the lease or not. */
  start(): Promise<void>;
  stop(): Promise<void>;
  held(): boolean;
}

/**
 * A Postgres session advisory lock on a dedicated connection: held exactly as long as that
 * session lives, so when the holder dies (process, host or network) the server frees it and a
 * standby's next try takes over. The same connection LISTENs, which a pooled one cannot do.
 */
export function createLease(config: LeaseConfig): Lease {
  let client: pg.Client | undefined;
  let isHeld = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let attempt: Promise<void> | undefined;
  const log = config.logger;

  const drop = (why: string, err?: unknown) => {
    const c = client;
    client = undefined;
    c?.removeAllListeners("notification");
    void c?.end().catch(() => undefined);
    if (isHeld) {
      isHeld = false;
      log.warn({ lease: config.name, err }, `lost the ${config.name} lease: ${why}`);
      config.onLost();
    }
  };

  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({
      connectionString: config.databaseUrl,
      keepAlive: true,
      application_name: `nexus-lease:${config.name}`.slice(0, 63),
    });
    c.on("error", (err) => {
      if (client === c) drop("connection error", err);
    });
    c.on("end", () => {
      if (client === c && !stopped) drop("connection closed");
    });
    await c.connect();
    return c;
  };

  const tryAcquire = async (): Promise<void> => {
    if (stopped || isHeld) return;
    try {
      client ??= await connect();
      const c = client;
      const res = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok", [
        LOCK_CLASS,
        config.name,
      ]);
      if (!res.rows[0]?.ok || stopped) return;
      c.on("notification", (n) => {
        if (n.channel === config.channel) config.onNotify();
      });
      await c.query(`LISTEN ${pg.escapeIdentifier(config.channel)}`);
      isHeld = true;
      log.info({ lease: config.name }, `took the ${config.name} lease`);
      config.onAcquired();
    } catch (err) {
      log.warn({ lease: config.name, err }, `could not try the ${config.name} lease, will retry`);
      drop("attempt failed", err);
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(async () => {
      attempt = tryAcquire();
      await attempt;
      schedule();
    }, config.retryMs);
    timer.unref();
  };

  return {
    async start() {
      stopped = false;
      attempt = tryAcquire();
      await attempt;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await attempt;
      const c = client;
      client = undefined;
      if (!c) return;
      if (isHeld) {
        isHeld = false;
        await c.query(`UNLISTEN ${pg.escapeIdentifier(config.channel)}`).catch(() => undefined);
        await c
          .query("SELECT pg_advisory_unlock($1, hashtext($2))", [LOCK_CLASS, config.name])
          .catch(() => undefined);
      }
      await c.end().catch(() => undefined);
    },
    held: () => isHeld,
  };
}
