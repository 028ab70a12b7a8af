import type { Pool } from "@nexus/kit";

/**
 * The pool, recording the text of every statement sent through `pool.query` (not through clients
 * checked out of it: transactions are counted by what opens them).
 */
export function countingPool(pool: Pool): { pool: Pool; sent: string[]; count(re: RegExp): number } {
  const sent: string[] = [];
  const wrapped = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === "query")
        return (text: string | { text: string }, ...rest: unknown[]) => {
          sent.push(typeof text === "string" ? text : text.text);
          return (target.query as (...a: unknown[]) => unknown)(text, ...rest);
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { pool: wrapped as Pool, sent, count: (re) => sent.filter((t) => re.test(t)).length };
}
