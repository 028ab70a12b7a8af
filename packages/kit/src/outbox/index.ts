export {
  DEFAULT_OUTBOX_CHANNEL,
  type EnqueueOptions,
  enqueueEvent,
  enqueueEvents,
  MAX_EARLIER,
  OUTBOX_INSERT_PARAMS,
  type OutboxPlacement,
  type OutboxRows,
  outboxInsertParams,
  outboxInsertSql,
  outboxPlacementSql,
  parseOutboxPlacement,
  prepareOutboxRows,
} from "./enqueue.js";
export { createLease, type Lease, type LeaseConfig } from "./lease.js";
export {
  createOutboxRelay,
  deletePublishedOutbox,
  type OutboxRelay,
  type OutboxRelayConfig,
  type OutboxTicket,
} from "./relay.js";
