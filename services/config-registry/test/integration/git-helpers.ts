import type { EventType } from "@nexus/contracts";
import type { EventOf } from "@nexus/kit";
import type { Delivery } from "./git-webhooks.js";
import { call, type Harness } from "./harness.js";

export async function deliver(h: Harness, provider: string, d: Delivery) {
  const res = await h.registry.app.inject({
    method: "POST",
    url: `/v1/webhooks/${provider}`,
    headers: d.headers,
    payload: d.body,
  });
  return { status: res.statusCode, body: res.body ? res.json() : undefined };
}

export async function importsOf(h: Harness, source: string) {
  const res = await call(h, "GET", `/v1/git-sources/${source}/imports`);
  return res.body.items as {
    status: string;
    commit: string;
    trigger: string;
    deliveryId: string | null;
    layers: { namespace: string; layer: string; path: string; revision: number }[];
    problems: { path: string; line: number | null; code: string; reason: string; layer: string | null }[];
    author: string | null;
    message: string | null;
  }[];
}

/** Wait until the source has `n` import attempts (the import runs from the git.pushed event). */
export async function waitForImports(h: Harness, source: string, n: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await importsOf(h, source);
    if (items.length >= n) return items;
    if (Date.now() > deadline) throw new Error(`expected ${n} imports of ${source}, found ${items.length}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Events of some types from a durable consumer that starts now. */
export async function collect<T extends EventType>(h: Harness, types: T[], durable: string) {
  const received: EventOf<T>[] = [];
  const consumption = await h.nats.bus.consume(types, { durable, deliverPolicy: "new" }, async (e) => {
    received.push(e);
  });
  return {
    received,
    async waitFor(pred: (e: EventOf<T>) => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.filter(pred);
        if (found.length > 0) return found;
        if (Date.now() > deadline) throw new Error("expected event did not arrive");
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: () => consumption.stop(),
  };
}
