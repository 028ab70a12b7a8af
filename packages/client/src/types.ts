import type { Position } from "./sync-decisions.js";

export type ConfigSource = "live" | "cache";

/**
 * Called with the new config (validated by the schema, when one was given), the one in use, and
 * the JSON pointers that differ. Resolve to accept it; throw (or reject) to refuse it: the
 * client then keeps the previous config and reports the revision as `rejected` with the error's
 * message. Until every listener has resolved, `get()` still returns the previous config.
 */
export type ChangeListener<T> = (next: T, previous: T, changedPaths: string[]) => void | Promise<void>;

export interface Rejection extends Position {
  reason: string;
}

/** A live, typed view of one namespace's resolved configuration in one environment. */
export interface NexusConfig<T> {
  /** The config the application runs (validated and typed by the schema, when one was given). */
  get(): T;
  /** The resolved revision in use (per namespace; 0 when nothing was ever written). */
  readonly revision: number;
  /** sha256 of the canonical JSON of the content in use: what the registry calls the hash. */
  readonly hash: string;
  /** `cache`: started from the last-known-good file because Nexus was unreachable, not caught up yet. */
  readonly source: ConfigSource;
  readonly service: string;
  readonly instanceId: string;
  /** The newest revision the application refused, while it is newer than the one in use. */
  readonly lastRejected: Rejection | undefined;
  on(event: "change", listener: ChangeListener<T>): this;
  off(event: "change", listener: ChangeListener<T>): this;
  /** Fetch from Nexus now and apply what changed; resolves once that attempt is over. */
  refresh(): Promise<void>;
  /** Stop watching, send a last `stopping` heartbeat, flush acks, close the NATS connection it opened. */
  close(): Promise<void>;
}
