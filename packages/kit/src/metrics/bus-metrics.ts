import { Counter, Gauge, type Registry } from "prom-client";
import type { Bus } from "../bus/types.js";
import { sharedRead } from "./scrape-fns.js";

/**
 * What an operator watches on the consumers of a service, per logical consumer (`durable`) and
 * JetStream durable (`consumer`): backlog, unacknowledged and redelivered messages as the server
 * counts them (read at scrape time, so every instance reports the same shared durable), dead
 * letters in the dead-letter stream, and this process's redeliveries and dead letters by reason.
 */
export function registerBusMetrics(
  registry: Registry,
  bus: Pick<Bus, "consumerStats" | "deadLetterCounts" | "observe">,
): BusMetrics {
  const stats = sharedRead(() => bus.consumerStats());
  const consumerGauge = (
    name: string,
    help: string,
    pick: (s: Awaited<ReturnType<typeof stats>>[number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["durable", "consumer"] as const,
      registers: [registry],
      async collect() {
        this.reset();
        const all = await stats().catch(() => []);
        for (const s of all) this.set({ durable: s.durable, consumer: s.consumer }, pick(s));
      },
    });
  consumerGauge(
    "nexus_consumer_pending_messages",
    "Messages in the stream not yet delivered to this durable (its backlog)",
    (s) => s.pending,
  );
  consumerGauge(
    "nexus_consumer_ack_pending_messages",
    "Messages delivered to this durable and not yet acknowledged",
    (s) => s.ackPending,
  );
  consumerGauge(
    "nexus_consumer_redelivered_messages",
    "Messages delivered more than once to this durable and not yet acknowledged",
    (s) => s.redelivered,
  );
  new Gauge({
    name: "nexus_dead_letter_messages",
    help: "Messages in the dead-letter stream for this logical consumer (all instances; the DLQ keeps them)",
    labelNames: ["durable"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const durables = [...new Set((await stats()).map((s) => s.durable))];
        for (const [durable, n] of await bus.deadLetterCounts(durables)) this.set({ durable }, n);
      } catch {
        // NATS unreachable: no value rather than a stale one.
      }
    },
  });
  const redeliveries = new Counter({
    name: "nexus_consumer_redeliveries_total",
    help: "Deliveries after the first of an event, handled by this process (a handler failed, or its ack came late)",
    labelNames: ["durable"] as const,
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: "nexus_dead_letters_total",
    help: "Events this process sent to the dead-letter stream, by the reason's code",
    labelNames: ["durable", "reason"] as const,
    registers: [registry],
  });
  let stopObserving: (() => void) | undefined;
  return {
    start() {
      stopObserving ??= bus.observe({
        redelivered: (durable) => redeliveries.inc({ durable }),
        deadLettered: (durable, reason) => deadLetters.inc({ durable, reason }),
      });
    },
    stop() {
      stopObserving?.();
      stopObserving = undefined;
    },
  };
}

/** Gauges are read at scrape time; the counters count while started (with the service's workers). */
export interface BusMetrics {
  start(): void;
  stop(): void;
}
