/**
 * Polls the resolved endpoint with `If-None-Match`: a 304 costs the registry one cache read and
 * carries no body. Network failures and 5xx answers are retried with a growing pause (up to
 * `maxBackoffMs`); anything else (404: the namespace or environment is gone) ends the watch.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ApiClient } from "../api-client.js";
import { CliError } from "../exit-codes.js";
import type { ResolvedSnapshot, WatchNotices, WatchSource, WatchTarget } from "./watch-source.js";

export interface PollingOptions {
  intervalMs: number;
  maxBackoffMs?: number;
  notices?: WatchNotices;
}

export function createPollingSource(
  client: Pick<ApiClient, "getResolved">,
  options: PollingOptions,
): WatchSource {
  const maxBackoffMs = Math.max(options.intervalMs, options.maxBackoffMs ?? 10_000);
  return {
    kind: "poll",
    async *watch(target: WatchTarget, signal: AbortSignal): AsyncGenerator<ResolvedSnapshot> {
      let etag: string | undefined;
      let failing = false;
      let pause = options.intervalMs;
      while (!signal.aborted) {
        try {
          const read = await client.getResolved(target.namespace, target.environment, {
            ...(etag !== undefined ? { ifNoneMatch: etag } : {}),
            signal,
          });
          if (failing) {
            failing = false;
            options.notices?.recovered();
          }
          pause = options.intervalMs;
          if (!read.notModified) {
            etag = read.etag;
            const { namespace, environment, revision, hash, content } = read.resolved;
            yield { namespace, environment, revision, hash, content };
          }
        } catch (err) {
          if (signal.aborted) return;
          if (!isTransient(err)) throw err;
          if (!failing) {
            failing = true;
            options.notices?.unreachable(err);
          }
          pause = Math.min(pause * 2, maxBackoffMs);
        }
        try {
          await sleep(pause, undefined, { signal });
        } catch {
          return;
        }
      }
    },
  };
}

/** Worth retrying: the registry is unreachable, overloaded or failing on its side. */
export function isTransient(err: unknown): err is CliError {
  if (!(err instanceof CliError)) return false;
  if (err.code === "unreachable") return true;
  return err.status !== undefined && (err.status >= 500 || err.status === 429);
}
