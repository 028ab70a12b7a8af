import type { App } from "@nexus/kit";

/**
 * An answer that reveals a secret's value must not be kept by any cache on the way (RFC 9111
 * `no-store`; `no-cache` would still let a cache store it and only revalidate). A route that
 * reveals a secret marks the request with the `secret.read` audit note (secret-access.ts), so
 * this one hook covers every such read, whatever cache header the route set.
 */
export function registerSecretReadHeaders(app: App): void {
  app.addHook("onSend", (request, reply, payload, done) => {
    if (request.auditNote?.action === "secret.read") reply.header("cache-control", "no-store");
    done(null, payload);
  });
}
