import { z } from "zod";
import { eventCatalog } from "./catalog.js";
import { CONFIG_SET_COMMAND, ConfigSetCommand, ConfigSetReply } from "./commands/config-set.js";
import { CloudEventAttributes } from "./envelope.js";

const SUBJECT_PARAMS: Record<string, string> = {
  environment: "Environment name",
  namespace: "Namespace name",
};

/** AsyncAPI 3.0 document of every event and command, generated from the zod contract. */
export function buildAsyncApi(version = "0.1.0") {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const def of Object.values(eventCatalog)) {
    const name = def.type.replace(/^nexus\./, "").replaceAll(".", "-");
    messages[name] = {
      name: def.type,
      title: def.type,
      summary: def.description,
      contentType: "application/cloudevents+json",
      headers: {
        type: "object",
        properties: {
          "Nats-Msg-Id": { type: "string", description: "= CloudEvents id; JetStream deduplicates on it" },
          traceparent: {
            type: "string",
            description: "W3C trace context of the change that caused the event",
          },
        },
      },
      payload: z.toJSONSchema(CloudEventAttributes.extend({ type: z.literal(def.type), data: def.schema }), {
        target: "draft-2020-12",
      }),
    };
    channels[name] = {
      address: `${def.type}.{environment}.{namespace}`,
      description: `${def.description} Subscribe to \`${def.type}.>\` for all, or narrow by environment and namespace.`,
      parameters: Object.fromEntries(Object.entries(SUBJECT_PARAMS).map(([k, d]) => [k, { description: d }])),
      messages: { [name]: { $ref: `#/components/messages/${name}` } },
    };
    operations[`receive-${name}`] = {
      action: "receive",
      channel: { $ref: `#/channels/${name}` },
      summary: `Consume ${def.type} (JetStream stream <PREFIX>_EVENTS, durable pull consumers)`,
    };
  }

  const command = "config-cmd-set";
  messages[`${command}-request`] = {
    name: CONFIG_SET_COMMAND,
    contentType: "application/json",
    payload: z.toJSONSchema(ConfigSetCommand, { target: "draft-2020-12" }),
  };
  messages[`${command}-reply`] = {
    name: `${CONFIG_SET_COMMAND}.reply`,
    contentType: "application/json",
    payload: z.toJSONSchema(ConfigSetReply, { target: "draft-2020-12" }),
  };
  channels[command] = {
    address: CONFIG_SET_COMMAND,
    description: "Request/reply: write one layer with the same validation and errors as the REST PUT.",
    messages: { request: { $ref: `#/components/messages/${command}-request` } },
  };
  channels[`${command}-reply`] = {
    address: null,
    messages: { reply: { $ref: `#/components/messages/${command}-reply` } },
  };
  operations[command] = {
    action: "send",
    channel: { $ref: `#/channels/${command}` },
    reply: { channel: { $ref: `#/channels/${command}-reply` } },
  };

  return {
    asyncapi: "3.0.0",
    info: {
      title: "Nexus events and commands",
      version,
      description:
        "Every event is a CloudEvents 1.0 structured-mode JSON message on NATS JetStream. Subjects: nexus.<domain>.<event>[.<environment>.<namespace>]. Events carry revisions and hashes, never secret values.",
    },
    defaultContentType: "application/json",
    servers: { local: { host: "127.0.0.1:4222", protocol: "nats" } },
    channels,
    operations,
    components: { messages },
  };
}
