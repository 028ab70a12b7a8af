import type { ServerResponse } from "node:http";
import type { Principal } from "@nexus/kit";

interface Client {
  principal: Principal;
  res: ServerResponse;
}

/**
 * The open dashboard streams (server-sent events). A message goes to each client the filter lets
 * through (the same access rules as the APIs: a client never hears of a namespace it may not view).
 */
export function createLiveHub(options: { keepAliveMs?: number } = {}) {
  const clients = new Set<Client>();
  const keepAlive = setInterval(() => {
    for (const c of clients) c.res.write(": keep-alive\n\n");
  }, options.keepAliveMs ?? 15_000);
  keepAlive.unref();

  return {
    add(principal: Principal, res: ServerResponse): () => void {
      const client = { principal, res };
      clients.add(client);
      return () => clients.delete(client);
    },
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
    },
  };
}
export type LiveHub = ReturnType<typeof createLiveHub>;
