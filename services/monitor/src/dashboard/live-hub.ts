import type { ServerResponse } from "node:http";
import type { Principal, Stoppable } from "@nexus/kit";

interface Client {
  principal: Principal;
  res: ServerResponse;
}

/** Subscriptions that only feed dashboards, and how to know the server has them. */
export interface LiveFeeds {
  open(): Stoppable[];
  /** Resolves once every subscription `open` made is registered with the server (a NATS flush). */
  registered(): Promise<void>;
}

/**
 * The open dashboard streams (server-sent events). A message goes to each client the filter lets
 * through (the same access rules as the APIs: a client never hears of a namespace it may not view).
 * The feeds (`config.changed`, `config.applied`, `pipeline.*` subscriptions) are open only while
 * a stream is: a monitor nobody watches is sent none of those per-change messages.
 */
export function createLiveHub(options: { keepAliveMs?: number } = {}) {
  const clients = new Set<Client>();
  let feeds: LiveFeeds | undefined;
  let open: Stoppable[] | undefined;
  let registered: Promise<void> = Promise.resolve();
  const startFeeds = () => {
    if (!feeds || open) return;
    open = feeds.open();
    registered = feeds.registered().catch(() => undefined);
  };
  const stopFeeds = () => {
    const o = open;
    open = undefined;
    if (o) void Promise.all(o.map((s) => s.stop())).catch(() => undefined);
  };
  const keepAlive = setInterval(() => {
    for (const c of clients) c.res.write(": keep-alive\n\n");
  }, options.keepAliveMs ?? 15_000);
  keepAlive.unref();

  return {
    add(principal: Principal, res: ServerResponse): () => void {
      const client = { principal, res };
      clients.add(client);
      startFeeds();
      return () => {
        clients.delete(client);
        if (clients.size === 0) stopFeeds();
      };
    },
    /** Resolves once the feeds a stream added now depends on are registered: nothing later is missed. */
    ready: (): Promise<void> => registered,
    /** The feeds to open while any stream is (set once at start). */
    feed(f: LiveFeeds): void {
      feeds = f;
      if (clients.size > 0) startFeeds();
    },
    /** Are the feeds open now? */
    feeding: () => open !== undefined,
    send(event: string, data: unknown, allowed: (p: Principal) => boolean = () => true): void {
      const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      for (const c of clients) if (allowed(c.principal)) c.res.write(frame);
    },
    /** A message cut to each client (e.g. only the alerts it may see). */
    sendEach(event: string, dataFor: (p: Principal) => unknown): void {
      for (const c of clients)
        c.res.write(`event: ${event}\ndata: ${JSON.stringify(dataFor(c.principal))}\n\n`);
    },
    size: () => clients.size,
    /** End every stream (idempotent). */
    close(): void {
      clearInterval(keepAlive);
      for (const c of clients) c.res.end();
      clients.clear();
      stopFeeds();
    },
  };
}
export type LiveHub = ReturnType<typeof createLiveHub>;
