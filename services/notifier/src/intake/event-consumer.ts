import { CONFIG_CHANGED, type EventType } from "@nexus/contracts";
import {
  type BatchItem,
  type Bus,
  type Consumption,
  consumeWhileWanted,
  type Logger,
  type Pool,
  processOnce,
} from "@nexus/kit";
import type { AlertService } from "../alerts/alert-service.js";
import { mayRouteEventType, noticeWanted } from "../routing/routing-fns.js";
import type { RoutingService } from "../routing/routing-service.js";
import { alertFromEvent, CHANGE_NOTICE_LABEL, type LinkBases, mappedEventTypes } from "./event-alert-fns.js";

export const CONSUMER = "notifier";

/**
 * Change notices come from `config.changed`, the busiest subject there is, and most systems route
 * none: its durable exists only while some route asks for them (from that routing version's time).
 */
const WANTED_ONLY = [CONFIG_CHANGED] as const satisfies readonly EventType[];

/**
 * The routing version's time is Postgres's; the durable's start is compared with NATS's clock.
 * Starting a second earlier may send a notice for a change made just before the route was saved,
 * rather than miss one made just after.
 */
const CLOCK_MARGIN_MS = 1_000;

export interface EventConsumerDeps {
  bus: Pick<Bus, "consumeBatches" | "dropDurables" | "ensureStreams">;
  pool: Pool;
  logger: Logger;
  alerts: Pick<AlertService, "routingNow" | "ingestIn">;
  routing: Pick<RoutingService, "current">;
  links: LinkBases;
  concurrency: number;
  /** How often every instance checks whether a route wants change notices. */
  checkEveryMs: number;
  /** An event stored as an alert or notice: its group may be due. */
  ingested(): void;
}

/**
 * The notifier's bus intake: alerts, drift, policy, pipeline and job events on one logical durable
 * (one JetStream durable per type), and `config.changed` on its own only while a route wants change
 * notices. Each event becomes an alert or notice (event-alert-fns) stored with its handled mark.
 */
export function createEventConsumer(deps: EventConsumerDeps) {
  const { bus, pool } = deps;
  // Events delivered together are acknowledged together (one socket write for the lot). Each
  // event's effect commits with its handled mark, so a batch that fails part-way and is handed
  // back one event at a time applies nothing twice.
  const handle = async (items: readonly BatchItem<EventType>[]): Promise<void> => {
    for (const { event } of items) {
      const alert = alertFromEvent(event.type, event.data, { links: deps.links, time: event.time });
      if (!alert) continue;
      const routing = await deps.alerts.routingNow();
      // Notices (config.changed, pipeline steps) go only where a route asked for them; most
      // systems ask for none, and then a change costs this process no database work.
      if (alert.status === "notice" && !noticeWanted(routing?.config.route, alert.labels)) continue;
      const done = await processOnce(pool, CONSUMER, event.id, (c) =>
        deps.alerts.ingestIn(c, [alert], routing),
      );
      if (done.applied && done.result > 0) deps.ingested();
    }
  };
  const always = mappedEventTypes().filter((t) => !(WANTED_ONLY as readonly EventType[]).includes(t));
  let consumption: Consumption | undefined;
  const notices = consumeWhileWanted({
    what: "config.changed, for change notices",
    logger: deps.logger,
    everyMs: deps.checkEveryMs,
    async wantedSince() {
      const version = await deps.routing.current();
      if (!version || !mayRouteEventType(version.config.route, CHANGE_NOTICE_LABEL)) return null;
      return new Date(Date.parse(version.createdAt) - CLOCK_MARGIN_MS);
    },
    start: (since) =>
      bus.consumeBatches(
        [...WANTED_ONLY],
        { durable: CONSUMER, concurrency: deps.concurrency, startAt: since },
        handle,
      ),
    drop: () => bus.dropDurables(CONSUMER, WANTED_ONLY),
  });

  return {
    async start(): Promise<void> {
      await bus.ensureStreams();
      // A new durable (first deployment, a newly mapped event type) starts at new events:
      // replaying a week of stream history would page people about the past.
      consumption = await bus.consumeBatches(
        always,
        { durable: CONSUMER, concurrency: deps.concurrency, deliverPolicy: "new" },
        handle,
      );
      await notices.start();
    },
    /** After a routing change on this instance: start or stop change notices now, not at the next check. */
    routingChanged: () => notices.check(),
    consumingChangeNotices: () => notices.consuming(),
    async stop(): Promise<void> {
      await notices.stop();
      await consumption?.stop();
    },
  };
}
export type EventConsumer = ReturnType<typeof createEventConsumer>;
