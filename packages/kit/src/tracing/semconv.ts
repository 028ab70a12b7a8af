/**
 * OpenTelemetry semantic-convention attribute names for messaging, copied rather than imported
 * from `@opentelemetry/semantic-conventions/incubating`, as that package advises for incubating
 * names (they may change between its minor versions). HTTP names come from its stable entry.
 */
export const MESSAGING_SYSTEM = "messaging.system";
export const MESSAGING_DESTINATION_NAME = "messaging.destination.name";
export const MESSAGING_OPERATION_TYPE = "messaging.operation.type";
export const MESSAGING_OPERATION_NAME = "messaging.operation.name";
export const MESSAGING_MESSAGE_ID = "messaging.message.id";
export const MESSAGING_MESSAGE_BODY_SIZE = "messaging.message.body.size";
export const MESSAGING_CONSUMER_GROUP_NAME = "messaging.consumer.group.name";
/** Not in the conventions: how many times JetStream has delivered this message. */
export const NEXUS_DELIVERY_COUNT = "nexus.messaging.delivery_count";
/** Not in the conventions: the CloudEvents type of the event a message carries. */
export const NEXUS_EVENT_TYPE = "nexus.event.type";

export const MESSAGING_SYSTEM_NATS = "nats";
