import type { ConnectionOptions, NatsConnection } from "@nats-io/transport-node";
import { EnvironmentName, InstanceId, InstanceLabels, NamespaceName, ServiceName } from "@nexus/contracts";
import { z } from "zod";
import { NexusConfigError } from "./errors.js";
import type { ConfigLogger } from "./logger.js";
import { silentLogger, withTraceIds } from "./logger.js";
import { type NatsCredentials, NatsCredentialsSchema, NatsInboxPrefix, withNatsAuth } from "./nats-auth.js";
import { DEFAULT_SUBJECT_PREFIX, SUBJECT_PREFIX_PATTERN } from "./subjects.js";
import type { ChangeListener } from "./types.js";

/** Any zod 4 schema; its output type becomes the type of `get()`. */
export type ConfigSchema<T> = z.ZodType<T>;

export interface ConnectConfigOptions<T = Record<string, unknown>> {
  /** The namespace to read, e.g. `payments-api`. */
  namespace: string;
  /** The environment to read, e.g. `production`. */
  environment: string;
  /** This service's name, reported in applied-acks and heartbeats. */
  service: string;
  /** Base URL of the config-registry (`http://host:4100`). Without it, reads go over NATS. */
  url?: string;
  /** Sent as `Authorization: Bearer <token>` on HTTP reads. */
  token?: string;
  /**
   * NATS for pushed changes, applied-acks, heartbeats and resync commands: an open connection
   * (yours; the client never closes it) or connection options (the client connects, reconnects
   * forever and closes it on `close()`).
   */
  nats?: NatsConnection | ConnectionOptions;
  /**
   * This service's own NATS login, for the connection the client opens: `{ user, password }`,
   * `{ token }`, `{ nkeySeed }` or `{ credsFile }`. The server's permissions decide which
   * namespaces it hears (see infra/nats/nats-server.auth.conf).
   */
  natsCredentials?: NatsCredentials;
  /**
   * First tokens of this client's reply subjects instead of `_INBOX` (nats.js `inboxPrefix`), e.g.
   * `_INBOX_payments-api`: with per-user permissions, the one inbox this user may subscribe to.
   */
  natsInboxPrefix?: string;
  /** First subject token, as the services' NATS_PREFIX. Default `nexus`. */
  subjectPrefix?: string;
  /** Validates (and types) the resolved content; a config that fails it is never applied. */
  schema?: ConfigSchema<T>;
  /**
   * Puts the first config to work before it is acknowledged (the nexus agent renders its files
   * here). Throw to refuse it: connectConfig acks it `rejected` with the message and fails with
   * `initial_rejected`. Without it, the first config is acked `applied` as soon as it is in hand.
   */
  applyInitial?: (value: T) => void | Promise<void>;
  /**
   * A change listener registered before anything can change, as `on("change", …)` would be.
   * Use it with `applyInitial`: a change announced while the first config is put to work then
   * reaches it (after the first config is acked) instead of being applied with no listener yet.
   */
  onChange?: ChangeListener<T>;
  /** Unique per running copy. Default `<hostname>:<pid>:<random>`. */
  instanceId?: string;
  /** This instance's labels (`{ zone: "eu-1" }`): wave rollouts release instances by them. */
  labels?: Record<string, string>;
  /**
   * Honour wave rollouts (needs NATS; default true): before applying a newer revision the client
   * asks the orchestrator whether its wave is released, and keeps the config in use until it is.
   * Nobody answering (no orchestrator) means apply at once. The question costs the fan-out nothing
   * measurable (test/bench/README.md (k): 200 instances, 0.98 MiB). `false` applies every
   * revision as it comes, outside any rollout.
   */
  rollouts?: boolean;
  /** Where the last applied config is kept, to start from when Nexus is unreachable. */
  cacheFile?: string;
  /** Seconds between heartbeats. Default 30. */
  heartbeatSeconds?: number;
  /** Mean time between polls (±20% jitter). Default 30 s without NATS, 5 min with (a safety net). */
  pollIntervalMs?: number;
  /** Timeout of one read or publish, ms. Default 5000. */
  requestTimeoutMs?: number;
  /** With no cache file to fall back on, how long connectConfig waits for Nexus. Default 30000. */
  startTimeoutMs?: number;
  /** pino or anything with debug/info/warn/error(fields, message). Default: silent. */
  logger?: ConfigLogger;
}

const Scalars = z.object({
  namespace: NamespaceName,
  environment: EnvironmentName,
  service: ServiceName,
  url: z.url({ protocol: /^https?$/ }).optional(),
  token: z.string().min(1).optional(),
  natsCredentials: NatsCredentialsSchema.optional(),
  natsInboxPrefix: NatsInboxPrefix.optional(),
  subjectPrefix: z
    .string()
    .regex(SUBJECT_PREFIX_PATTERN, "lowercase letters, digits, '-' or '_', starting with a letter")
    .default(DEFAULT_SUBJECT_PREFIX),
  instanceId: InstanceId.optional(),
  labels: InstanceLabels.default({}),
  rollouts: z.boolean().default(true),
  cacheFile: z.string().min(1).optional(),
  heartbeatSeconds: z.number().int().min(1).max(86_400).default(30),
  pollIntervalMs: z.number().int().min(100).optional(),
  requestTimeoutMs: z.number().int().min(50).max(600_000).default(5_000),
  startTimeoutMs: z.number().int().min(0).default(30_000),
});

/** Credentials live only inside the connection options, never in settings that could be logged. */
export type Settings<T> = Omit<z.infer<typeof Scalars>, "natsCredentials" | "natsInboxPrefix"> & {
  nats: NatsConnection | ConnectionOptions | undefined;
  schema: ConfigSchema<T> | undefined;
  applyInitial: ((value: T) => void | Promise<void>) | undefined;
  onChange: ChangeListener<T> | undefined;
  logger: ConfigLogger;
  pollIntervalMs: number;
};

export function isNatsConnection(value: unknown): value is NatsConnection {
  const v = value as Partial<NatsConnection> | null;
  return (
    typeof v?.subscribe === "function" && typeof v.request === "function" && typeof v.isClosed === "function"
  );
}

/** Check every option once, up front, and fill in defaults. Throws `invalid_options` with the field. */
export function parseOptions<T>(options: ConnectConfigOptions<T>): Settings<T> {
  if (typeof options !== "object" || options === null) {
    throw new NexusConfigError("invalid_options", "connectConfig needs an options object");
  }
  const parsed = Scalars.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join(".");
    throw new NexusConfigError("invalid_options", `option ${field || "(root)"}: ${issue.message}`, {
      field,
      details: parsed.error.issues,
    });
  }
  if (!parsed.data.url && !options.nats) {
    throw new NexusConfigError(
      "invalid_options",
      "give `url` (HTTP reads) or `nats` (NATS-only reads), or both",
      {
        field: "url",
      },
    );
  }
  if (options.nats !== undefined && (typeof options.nats !== "object" || options.nats === null)) {
    throw new NexusConfigError("invalid_options", "option nats: a NatsConnection or connection options", {
      field: "nats",
    });
  }
  const nats = natsSpec(options.nats, parsed.data);
  if (options.schema !== undefined && typeof options.schema?.safeParse !== "function") {
    throw new NexusConfigError("invalid_options", "option schema: expected a zod schema (with safeParse)", {
      field: "schema",
    });
  }
  for (const field of ["applyInitial", "onChange"] as const) {
    if (options[field] !== undefined && typeof options[field] !== "function") {
      throw new NexusConfigError("invalid_options", `option ${field}: expected a function`, { field });
    }
  }
  const logger = options.logger ?? silentLogger;
  for (const level of ["debug", "info", "warn", "error"] as const) {
    if (typeof logger[level] !== "function") {
      throw new NexusConfigError("invalid_options", `option logger: missing the ${level} method`, {
        field: "logger",
      });
    }
  }
  const { natsCredentials: _credentials, natsInboxPrefix: _inboxPrefix, ...scalars } = parsed.data;
  return {
    ...scalars,
    nats,
    schema: options.schema,
    applyInitial: options.applyInitial,
    onChange: options.onChange,
    logger: logger === silentLogger ? logger : withTraceIds(logger),
    pollIntervalMs: parsed.data.pollIntervalMs ?? (options.nats ? 300_000 : 30_000),
  };
}

/** Credentials and inbox prefix go into the options of the connection the client opens. */
function natsSpec(
  spec: NatsConnection | ConnectionOptions | undefined,
  given: Pick<z.infer<typeof Scalars>, "natsCredentials" | "natsInboxPrefix">,
): NatsConnection | ConnectionOptions | undefined {
  const { natsCredentials, natsInboxPrefix } = given;
  if (!natsCredentials && !natsInboxPrefix) return spec;
  const field = natsCredentials ? "natsCredentials" : "natsInboxPrefix";
  if (!spec) {
    throw new NexusConfigError("invalid_options", `option ${field} needs nats (connection options)`, {
      field,
    });
  }
  if (isNatsConnection(spec)) {
    throw new NexusConfigError(
      "invalid_options",
      `option ${field} applies to a connection the client opens; set it on your own NatsConnection instead`,
      { field },
    );
  }
  return withNatsAuth(spec, natsCredentials, natsInboxPrefix);
}
