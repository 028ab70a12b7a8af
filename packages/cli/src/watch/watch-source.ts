/**
 * Where `nexus watch` gets changes from. Today the registry is polled over HTTP
 * (`polling-source.ts`); a source fed by NATS push (`config.changed`, through @nexus/client)
 * can implement the same interface and the command will not change.
 */
import type { CliError } from "../exit-codes.js";

export interface WatchTarget {
  namespace: string;
  environment: string;
}

/** One resolved configuration, as a watcher sees it. */
export interface ResolvedSnapshot {
  namespace: string;
  environment: string;
  revision: number;
  hash: string;
  content: Record<string, unknown>;
}

export interface WatchSource {
  /** How changes arrive, for messages: `poll`, later `nats`. */
  readonly kind: string;
  /**
   * The current configuration first, then one snapshot per change of its content (hash), in
   * order, until `signal` aborts (the iteration then ends without an error). A failure that will
   * not heal (the namespace is gone) ends it with a CliError.
   */
  watch(target: WatchTarget, signal: AbortSignal): AsyncIterable<ResolvedSnapshot>;
}

/** Told when the source loses and regains the registry; the watch keeps going meanwhile. */
export interface WatchNotices {
  unreachable(err: CliError): void;
  recovered(): void;
}
