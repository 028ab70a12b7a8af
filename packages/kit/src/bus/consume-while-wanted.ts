import type { BusLogger, Consumption } from "./types.js";

export interface WantedConsumptionOptions {
  /** What is consumed, for the log: `config.changed, for change notices`. */
  what: string;
  logger: BusLogger;
  /**
   * Since when something here wants these events (a durable made now starts there), or null when
   * nothing does. Every instance must come to the same answer from shared state (Postgres).
   */
  wantedSince(): Promise<Date | null>;
  /** Consume from `since` (bind the durable, or make it to start there). */
  start(since: Date): Promise<Consumption>;
  /** Delete the durable: events nobody here wants must not pile up in it, nor be delivered. */
  drop(): Promise<unknown>;
  /** How often to ask `wantedSince` again (changes made on this instance call `check` at once). */
  everyMs: number;
}

export interface WantedConsumption {
  /** Ask now, and start or stop consuming to match; one check at a time. */
  check(): Promise<void>;
  start(): Promise<void>;
  /** Stop consuming (the durable stays: other instances, or this one after a restart, go on). */
  stop(): Promise<void>;
  consuming(): boolean;
}

/**
 * A consumer that runs only while something wants its events: an event nobody wants then costs the
 * service nothing (no delivery, no parse, no ack), where a durable that is always there costs all
 * three for every event. When wanted it starts from `wantedSince` (so nothing between the decision
 * and the start is missed); when no longer wanted it stops and deletes the durable (a later start
 * begins afresh instead of replaying what arrived meanwhile).
 *
 * Instances agree within `everyMs`. Until they do, one that still wants the events keeps
 * consuming, and the kit makes a deleted durable again for it: its handler must be idempotent, as
 * every handler is.
 */
export function consumeWhileWanted(o: WantedConsumptionOptions): WantedConsumption {
  let running: Consumption | undefined;
  let checked = false;
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const checkOnce = async (): Promise<void> => {
    const since = await o.wantedSince();
    if (since && !running) {
      running = await o.start(since);
      o.logger.info({ since: since.toISOString() }, `consuming ${o.what}: something here wants them`);
    } else if (!since && (running || !checked)) {
      // A first check deletes a durable left from before (another instance, an earlier version).
      const was = running;
      running = undefined;
      await was?.stop();
      await o.drop();
      if (was) o.logger.info(`stopped consuming ${o.what}: nothing here wants them now`);
    }
    checked = true;
  };

  const check = (): Promise<void> => {
    const next = chain.then(checkOnce);
    chain = next.catch(() => undefined);
    return next;
  };

  return {
    check,
    async start() {
      const warn = (err: unknown) =>
        o.logger.warn({ err }, `could not check whether ${o.what} are wanted; trying again shortly`);
      // Postgres or NATS away at start: the next check tries again, the service starts anyway.
      await check().catch(warn);
      timer = setInterval(() => void check().catch(warn), o.everyMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await chain;
      const was = running;
      running = undefined;
      await was?.stop();
    },
    consuming: () => running !== undefined,
  };
}
