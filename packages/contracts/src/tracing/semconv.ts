/**
 * OpenTelemetry attribute names on Nexus's spans, shared by the kit (services) and @nexus/client
 * (consuming instances), so both sides of a message name it the same way. The messaging names
 * are the semantic conventions', copied rather than imported from
 * `@opentelemetry/semantic-conventions/incubating`, as that package advises for incubating names
 * (they may change between its minor versions); plain strings, so the contract needs no
 * OpenTelemetry package.
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
/** The (namespace, environment, revision) a span is about. */
export const NEXUS_NAMESPACE = "nexus.namespace";
export const NEXUS_ENVIRONMENT = "nexus.environment";
export const NEXUS_REVISION = "nexus.revision";
/** A consuming instance, as its applied-acks and heartbeats name it (several may share a process). */
export const NEXUS_SERVICE = "nexus.service";
export const NEXUS_INSTANCE_ID = "nexus.instance.id";

export const MESSAGING_SYSTEM_NATS = "nats";

/**
 * The conventions' attributes of a span about one NATS message: the system, the subject, what is
 * done with it (`send`/`process`, named `publish`, `process`, `request`, `reply`), and the message's
 * id and size where known.
 */
export function natsMessageAttributes(m: {
  subject: string;
  operation: "send" | "process";
  operationName: "publish" | "process" | "request" | "reply";
  messageId?: string | undefined;
  bodySize?: number | undefined;
}): Record<string, string | number> {
  const attributes: Record<string, string | number> = {
    [MESSAGING_SYSTEM]: MESSAGING_SYSTEM_NATS,
    [MESSAGING_DESTINATION_NAME]: m.subject,
    [MESSAGING_OPERATION_TYPE]: m.operation,
    [MESSAGING_OPERATION_NAME]: m.operationName,
  };
  if (m.messageId !== undefined) attributes[MESSAGING_MESSAGE_ID] = m.messageId;
  if (m.bodySize !== undefined) attributes[MESSAGING_MESSAGE_BODY_SIZE] = m.bodySize;
  return attributes;
}
