export {
  DEFAULT_OUTBOX_CHANNEL,
  type EnqueueOptions,
  enqueueEvent,
  enqueueEvents,
  enqueuePlacedEvents,
  OUTBOX_EARLIER_LIMIT,
  OUTBOX_INSERT_PARAMS,
  OUTBOX_VALUE_PARAMS,
  type OutboxPlace,
  type OutboxRows,
  outboxInsertParams,
  outboxInsertSql,
  outboxPlacesSql,
  outboxValueParams,
  outboxValuesInsertSql,
  prepareOutboxRows,
} from "./enqueue.js";
export { createLease, type Lease, type LeaseConfig } from "./lease.js";
export {
  createOutboxRelay,
  type OutboxRelay,
  type OutboxRelayConfig,
  type OutboxTicket,
} from "./relay.js";
export { deletePublishedOutbox } from "./retention.js";
