import type { FastifySchemaCompiler } from "fastify";
import { validatorCompiler } from "fastify-type-provider-zod";

/** What a fast check answers: the validated value, or undefined to let zod decide (and explain). */
export type FastCheck = (data: unknown) => { value: unknown } | undefined;

/**
 * A route-level validator compiler for hot routes: each request part first goes through a
 * hand-written check that accepts only what the route's zod schema accepts, returning the same
 * value; anything it does not accept goes to zod, which gives the error (or the value) as for
 * any route. The zod schemas stay the route's schemas, so the OpenAPI document is unchanged.
 * Each fast check must be tested against its schema (see the registry's resolve-fns tests).
 */
export function fastValidatorCompiler<S>(
  checks: Partial<Record<"params" | "querystring" | "headers" | "body", FastCheck>>,
): FastifySchemaCompiler<S> {
  return (route) => {
    // The part's schema is the zod schema the route declared (the type provider's compiler reads it).
    const slow = validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0]);
    const fast = checks[route.httpPart as keyof typeof checks];
    if (!fast) return slow;
    return (data) => fast(data) ?? slow(data);
  };
}
