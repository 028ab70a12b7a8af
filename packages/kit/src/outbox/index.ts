export {
  DEFAULT_OUTBOX_CHANNEL,
  type EnqueueOptions,
  enqueueEvent,
  enqueueEvents,
  OUTBOX_INSERT_PARAMS,
  type OutboxRows,
  outboxInsertParams,
  outboxInsertSql,
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
