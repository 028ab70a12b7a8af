import { type NatsConnection, NoRespondersError, RequestError, TimeoutError } from "@nats-io/transport-node";
import { type ConfigGetCommand, ConfigGetReply } from "@nexus/contracts";
import { NexusConfigError, reasonOf, registryError } from "./errors.js";
import type { ReadResult, RegistryReader } from "./registry-reader.js";
import type { Target } from "./subjects.js";
import { natsTraceHeaders } from "./tracing-nats.js";

export interface NatsReaderOptions extends Target {
  nc: NatsConnection;
  /** The prefixed `nexus.config.cmd.get.<environment>.<namespace>` subject. */
  subject: string;
  timeoutMs: number;
}

/**
 * Reads through the registry's `nexus.config.cmd.get` request/reply command; `readAt` asks for the
 * document as of an older namespace revision (the command's `revision`).
 */
export function createNatsReader(options: NatsReaderOptions): RegistryReader {
  return {
    transport: "nats",
    read: (ifNoneMatch) => send(options, ifNoneMatch ? { ifNoneMatch } : {}),
    readAt: (revision) => send(options, { revision }),
  };
}

async function send(
  options: NatsReaderOptions,
  extra: Pick<ConfigGetCommand, "ifNoneMatch" | "revision">,
): Promise<ReadResult> {
  const command: ConfigGetCommand = {
    schemaVersion: 1,
    namespace: options.namespace,
    environment: options.environment,
    ...extra,
  };
  let text: string;
  try {
    const msg = await options.nc.request(options.subject, JSON.stringify(command), {
      timeout: options.timeoutMs,
      ...natsTraceHeaders(),
    });
    text = msg.string();
  } catch (err) {
    throw new NexusConfigError(
      "unavailable",
      `config-registry did not answer on ${options.subject}: ${why(err, options.timeoutMs)}`,
      {
        cause: err,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new NexusConfigError("invalid_response", `the reply on ${options.subject} is not JSON`);
  }
  const reply = ConfigGetReply.safeParse(json);
  if (!reply.success) {
    throw new NexusConfigError("invalid_response", `the reply on ${options.subject} breaks the contract`, {
      details: reply.error.issues,
    });
  }
  const r = reply.data;
  if (!r.ok) {
    throw registryError(
      r.error.statusCode,
      r.error.code,
      `config-registry refused the read (${r.error.statusCode} ${r.error.code}): ${r.error.message}`,
      r.error,
    );
  }
  if (r.notModified) return { kind: "not-modified", hash: r.hash, revision: r.revision } satisfies ReadResult;
  const { namespace, environment, revision, hash, content, secretDigests } = r;
  return {
    kind: "document",
    document: {
      namespace,
      environment,
      revision,
      hash,
      content,
      ...(secretDigests ? { secretDigests } : {}),
    },
  };
}

function why(err: unknown, timeoutMs: number): string {
  if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders())) {
    return "nothing is serving it";
  }
  if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError)) {
    return `no answer within ${timeoutMs} ms`;
  }
  return reasonOf(err);
}
