import type { Position } from "./sync-decisions.js";

/** A resolved document as the registry serves it. */
export interface ResolvedDocument extends Position {
  namespace: string;
  environment: string;
  content: Record<string, unknown>;
  /** Present when the document holds secrets: what its hash covers in their place. */
  secretDigests?: Record<string, string> | undefined;
}

export type ReadResult =
  | { kind: "document"; document: ResolvedDocument }
  /** `ifNoneMatch` is still current. `revision` is absent when the transport did not say. */
  | { kind: "not-modified"; hash: string; revision: number | undefined };

/**
 * Reads the resolved configuration of the client's (namespace, environment) from Nexus, over
 * HTTP or NATS request/reply. Throws NexusConfigError; `unavailable`/`invalid_response` are
 * worth retrying, anything else is Nexus's answer.
 */
export interface RegistryReader {
  /** `http` or `nats`, for logs. */
  readonly transport: string;
  /**
   * `awaited`: the newest version a `config.changed` announced, which the registry may then serve
   * from its memory when it holds exactly that one (HTTP `Nexus-Awaited`; NATS reads ignore it).
   */
  read(ifNoneMatch?: string, awaited?: Position): Promise<ReadResult>;
  /**
   * The document as of an older namespace revision (`?revision=` over HTTP, the command's
   * `revision` over NATS): what an instance starting during a wave rollout runs while its wave
   * holds the newest. Absent: not supported.
   */
  readAt?(revision: number): Promise<ReadResult>;
}
