import { ConflictError, isTransactionConflict } from "@nexus/kit";

const CONCURRENT_CHANGE = "concurrent_change";
/**
 * A namespace that reads the one being resolved moved on while it was resolved: the resolution
 * is refused and, inside `retryConcurrentChange`, done again from what is committed then.
 */
export function concurrentDependentChange(): ConflictError {
  return new ConflictError(
    CONCURRENT_CHANGE,
    "A namespace that reads this one changed while this change was being resolved; send it again.",
  );
}

const RECOMPUTE_ATTEMPTS = 3;

/**
 * Run a transaction that calls `recompute` again when a namespace reading the target moved on
 * meanwhile, or Postgres broke a lock cycle: each attempt starts from what is committed then.
 */
export async function retryConcurrentChange<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (err) {
      const retryable =
        (err as { code?: unknown } | null)?.code === CONCURRENT_CHANGE || isTransactionConflict(err);
      if (!retryable || attempt >= RECOMPUTE_ATTEMPTS) throw err;
    }
  }
}
