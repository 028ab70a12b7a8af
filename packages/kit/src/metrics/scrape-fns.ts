/**
 * Values read at scrape time (Postgres, JetStream): one read shared by the gauges that need it,
 * and never longer than a scrape can wait.
 */

const SCRAPE_TIMEOUT_MS = 2_000;

/** `read` at most once per `ttlMs` (long enough for the gauges of one scrape); concurrent callers share it. */
export function sharedRead<T>(read: () => Promise<T>, ttlMs = 200): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > ttlMs) {
      const value = withTimeout(read(), SCRAPE_TIMEOUT_MS);
      // A failed read is not kept: the next scrape asks again.
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
      last = { at: now, value };
    }
    return last.value;
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err);
      },
    );
  });
}
