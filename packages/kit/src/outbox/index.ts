export { DEFAULT_OUTBOX_CHANNEL, type EnqueueOptions, enqueueEvent } from "./enqueue.js";
export { createLease, type Lease, type LeaseConfig } from "./lease.js";
export {
  createOutboxRelay,
  deletePublishedOutbox,
  type OutboxRelay,
  type OutboxRelayConfig,
} from "./relay.js";
