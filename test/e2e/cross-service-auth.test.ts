import { createHttpApp, createLogger, createRemoteTokenAuthenticator, type HttpApp } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  type Harness,
  startRegistry,
} from "../../services/config-registry/test/integration/harness.js";

/**
 * A service other than the registry (here a bare kit app with one route) accepts the registry's
 * API tokens by asking it over NATS, and stops accepting a revoked one at once.
 */
describe("API tokens across services", () => {
  let h: Harness;
  let other: HttpApp;
  let remote: ReturnType<typeof createRemoteTokenAuthenticator>;

  beforeAll(async () => {
    h = await startRegistry();
    remote = createRemoteTokenAuthenticator({ bus: h.nats.bus, key: h.tokenKey });
    other = await createHttpApp({
      service: "other-service",
      logger: createLogger({ service: "other-service", level: "silent" }),
      checks: [],
      access: { authenticator: remote },
    });
    other.app.get(
      "/v1/things/:ns",
      {
        config: {
          access: { role: "viewer", scope: (r) => ({ namespace: (r.params as { ns: string }).ns }) },
        },
      },
      async (request) => ({ who: request.principal?.name }),
    );
    await other.app.ready();
  });
  afterAll(async () => {
    await other?.app.close();
    await remote?.stop();
    await h?.close();
  });

  const get = (token: string, ns = "shop") =>
    other.app.inject({
      method: "GET",
      url: `/v1/things/${ns}`,
      headers: { authorization: `Bearer ${token}` },
    });

  it("accepts a registry token with its grants, refuses it out of scope, and refuses unknown tokens", async () => {
    const token = await h.tokenFor(["viewer:shop"], { owner: "hana" });
    const ok = await get(token);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ who: "hana" });
    expect((await get(token, "billing")).statusCode).toBe(403);
    const forged = `${token.slice(0, -2)}xx`;
    expect((await get(forged)).statusCode).toBe(401);
  });

  it("refuses a revoked token within moments, though it was cached", async () => {
    const token = await h.tokenFor(["viewer:shop"], { name: "soon-revoked" });
    expect((await get(token)).statusCode).toBe(200); // cached now
    const id = token.split("_")[1];
    expect((await call(h, "DELETE", `/v1/tokens/${id}`)).status).toBe(200);
    await expect.poll(async () => (await get(token)).statusCode, { timeout: 3_000, interval: 20 }).toBe(401);
    expect((await get(token)).json().error.code).toBe("token_revoked");
  });
});
