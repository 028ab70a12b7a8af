import closeWithGrace from "close-with-grace";
import type { Logger } from "./logger.js";

export interface Closer {
  name: string;
  close: () => Promise<void> | void;
}

export interface ShutdownOptions {
  logger: Logger;
  /** Hard limit for the whole shutdown; past it the process exits anyway. */
  graceMs: number;
  /** Called first: /readyz turns 503 so new traffic goes elsewhere. */
  startDraining: () => void;
  /** Closed in order: stop taking work (HTTP, consumers), then flush (outbox), then connections. */
  closers: Closer[];
}

/** On SIGTERM/SIGINT (or an uncaught error): drain, close everything in order, exit. */
export function installShutdown(options: ShutdownOptions): void {
  const { logger } = options;
  closeWithGrace({ delay: options.graceMs, logger: false }, async ({ signal, err }) => {
    if (err) logger.fatal({ err }, "shutting down after an unexpected error");
    else logger.info({ signal }, "shutting down: finishing in-flight work");
    options.startDraining();
    await closeAll(options.closers, logger);
    logger.info("shutdown complete");
  });
}

export async function closeAll(closers: Closer[], logger?: Logger): Promise<void> {
  for (const closer of closers) {
    try {
      await closer.close();
      logger?.debug({ component: closer.name }, "closed");
    } catch (err) {
      logger?.warn({ err, component: closer.name }, "could not close cleanly");
    }
  }
}
