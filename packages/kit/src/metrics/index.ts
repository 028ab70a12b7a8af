export { type BusMetrics, registerBusMetrics } from "./bus-metrics.js";
export { createOutboxMetrics, type OutboxMetrics } from "./outbox-metrics.js";
export { sharedRead } from "./scrape-fns.js";
