export { type BusConfig, createBus } from "./bus.js";
export { assertSubjectMatchesBody } from "./command-target.js";
export { COMMAND_MAX_BYTES, DOCUMENT_COMMAND_MAX_BYTES, encodeReply } from "./commands.js";
export {
  consumeWhileWanted,
  type WantedConsumption,
  type WantedConsumptionOptions,
} from "./consume-while-wanted.js";
export { type DeadLetterInfo, deadLetter } from "./dlq.js";
export {
  buildEnvelope,
  type EnvelopeOptions,
  type EventOf,
  InvalidEventError,
  type ParseFailureReason,
  type ParseResult,
  parseEvent,
  uuidv7,
} from "./envelope.js";
export { DLQ_HEADERS, MSG_ID, TRACEPARENT, TRACESTATE, traceHeaders } from "./headers.js";
export {
  CANONICAL_ROOT,
  canonicalSubject,
  dlqSubject,
  durableFor,
  prefixSubject,
  type StreamNames,
  streamNames,
} from "./names.js";
export { EventRefusedError } from "./refused.js";
export { DUPLICATE_WINDOW_MS, eventStreamSubjects, type StreamOptions } from "./streams.js";
export type {
  BatchConsumeOptions,
  BatchHandler,
  BatchItem,
  Bus,
  BusLogger,
  BusObserver,
  CommandContext,
  CommandError,
  ConsumeOptions,
  ConsumerStats,
  Consumption,
  EventContext,
  EventHandler,
  LiveEventContext,
  LiveEventHandler,
  PublishOptions,
  PublishResult,
  ServeCommandOptions,
  Stoppable,
  SubscribeOptions,
} from "./types.js";
export { EncodedReply } from "./types.js";
