import { z } from "zod";
import { eventCatalog } from "./catalog.js";
import {
  AUTH_TOKEN_EXPIRIES_COMMAND,
  AuthTokenExpiriesCommand,
  AuthTokenExpiriesReply,
} from "./commands/auth-token-expiries.js";
import { CONFIG_GET_COMMAND, ConfigGetCommand, ConfigGetReply } from "./commands/config-get.js";
import { CONFIG_SET_COMMAND, ConfigSetCommand, ConfigSetReply } from "./commands/config-set.js";
import { GIT_RESYNC_COMMAND, GitResyncCommand, GitResyncReply } from "./commands/git-resync.js";
import { INSTANCE_RESYNC_COMMAND, InstanceResyncCommand } from "./commands/instance-resync.js";
import { POLICY_CHECK_COMMAND, PolicyCheckCommand, PolicyCheckReply } from "./commands/policy-check.js";
import { ROLLOUT_GATE_COMMAND, RolloutGateCommand, RolloutGateReply } from "./commands/rollout-gate.js";
import {
  ROLLOUT_TARGET_COMMAND,
  RolloutTargetCommand,
  RolloutTargetReply,
} from "./commands/rollout-target.js";
import { CloudEventAttributes } from "./envelope.js";
import { SERVICE_HEARTBEAT, ServiceHeartbeat } from "./signals/service-heartbeat.js";

const SUBJECT_PARAMS: Record<string, string> = {
  environment: "Environment name",
  namespace: "Namespace name",
};

interface CommandDefinition {
  subject: string;
  description: string;
  request: z.ZodType;
  /** Absent: fire-and-forget, nobody answers. */
  reply?: z.ZodType;
  /** The subject ends in `.<environment>.<namespace>` like an event's (`.<layer>.<namespace>` for writes). */
  perTarget?: boolean | "layer" | "source" | "instance";
}

const LAYER_PARAMS: Record<string, string> = {
  layer: "Layer written: `base` or an environment name",
  namespace: "Namespace name",
};

const SOURCE_PARAMS: Record<string, string> = { source: "Git source name" };

const INSTANCE_PARAMS: Record<string, string> = {
  service: "Nexus service name",
  instance: "Instance id of that service",
};

const COMMANDS: CommandDefinition[] = [
  {
    subject: CONFIG_SET_COMMAND,
    description:
      "Request/reply: write one layer with the same validation and errors as the REST PUT. The body's namespace and layer must be the subject's (400 subject_mismatch otherwise).",
    request: ConfigSetCommand,
    reply: ConfigSetReply,
    perTarget: "layer",
  },
  {
    subject: CONFIG_GET_COMMAND,
    description:
      "Request/reply: read the resolved configuration like the REST GET .../resolved; `ifNoneMatch` answers `notModified` without content. The body's namespace and environment must be the subject's (400 subject_mismatch otherwise).",
    request: ConfigGetCommand,
    reply: ConfigGetReply,
    perTarget: true,
  },
  {
    subject: INSTANCE_RESYNC_COMMAND,
    description:
      "Core NATS, not stored, no reply: instances of the namespace/environment (optionally one service or instance) re-fetch and re-apply their configuration and report with config.applied.",
    request: InstanceResyncCommand,
    perTarget: true,
  },
  {
    subject: ROLLOUT_TARGET_COMMAND,
    description:
      "Request/reply (served by the orchestrator): may this instance apply the revision it read, or does a wave rollout hold it at an older one? No responder means apply. The body's namespace and environment must be the subject's.",
    request: RolloutTargetCommand,
    reply: RolloutTargetReply,
    perTarget: true,
  },
  {
    subject: ROLLOUT_GATE_COMMAND,
    description:
      "Request/reply (served by the config-registry; the orchestrator sends it): open or close a wave rollout's gate on a (namespace, environment). While one is open, that place's config.changed says `rolloutGate: true` and the SDK asks before applying. The body's namespace and environment must be the subject's.",
    request: RolloutGateCommand,
    reply: RolloutGateReply,
    perTarget: true,
  },
  {
    subject: POLICY_CHECK_COMMAND,
    description:
      "Request/reply (served by the drift-detector): the policy violations a resolved document would have in its environment; for a blocking check before a write.",
    request: PolicyCheckCommand,
    reply: PolicyCheckReply,
  },
  {
    subject: GIT_RESYNC_COMMAND,
    description:
      "Request/reply (served by the config-registry): import every layout file of the Git source named by the subject at its branch heads now, like POST /v1/git-sources/{name}/resync. The drift-detector sends it to repair source drift in remediate mode.",
    request: GitResyncCommand,
    reply: GitResyncReply,
    perTarget: "source",
  },
  {
    subject: AUTH_TOKEN_EXPIRIES_COMMAND,
    description:
      "Request/reply (served by the config-registry): active API tokens expiring within `withinDays`, names and dates only. The monitor asks for its token_expiring rule.",
    request: AuthTokenExpiriesCommand,
    reply: AuthTokenExpiriesReply,
  },
  {
    subject: SERVICE_HEARTBEAT,
    description:
      "Core NATS, not stored, no reply: a Nexus service instance is alive, with the readiness of each dependency, its outbox backlog, consumer backlog and dead letters. The monitor refuses a body whose service or instance is not the subject's.",
    request: ServiceHeartbeat,
    perTarget: "instance",
  },
];

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

  for (const command of COMMANDS) {
    const name = command.subject.replace(/^nexus\./, "").replaceAll(".", "-");
    messages[`${name}-request`] = {
      name: command.subject,
      contentType: "application/json",
      payload: z.toJSONSchema(command.request, { target: "draft-2020-12" }),
    };
    const params =
      command.perTarget === "layer"
        ? LAYER_PARAMS
        : command.perTarget === "source"
          ? SOURCE_PARAMS
          : command.perTarget === "instance"
            ? INSTANCE_PARAMS
            : SUBJECT_PARAMS;
    channels[name] = {
      address: command.perTarget
        ? `${command.subject}.${Object.keys(params)
            .map((k) => `{${k}}`)
            .join(".")}`
        : command.subject,
      description: command.description,
      ...(command.perTarget
        ? { parameters: Object.fromEntries(Object.entries(params).map(([k, d]) => [k, { description: d }])) }
        : {}),
      messages: { request: { $ref: `#/components/messages/${name}-request` } },
    };
    const operation: Record<string, unknown> = { action: "send", channel: { $ref: `#/channels/${name}` } };
    if (command.reply) {
      messages[`${name}-reply`] = {
        name: `${command.subject}.reply`,
        contentType: "application/json",
        payload: z.toJSONSchema(command.reply, { target: "draft-2020-12" }),
      };
      channels[`${name}-reply`] = {
        address: null,
        messages: { reply: { $ref: `#/components/messages/${name}-reply` } },
      };
      operation.reply = { channel: { $ref: `#/channels/${name}-reply` } };
    }
    operations[name] = operation;
  }

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
