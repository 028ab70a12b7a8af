import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry, withAuth } from "./harness.js";

/**
 * `Expect: 100-continue` is answered after routing and access control: a body the registry
 * would refuse is refused before the client sends it, and only an acceptable one gets the
 * go-ahead. (Node's default says "100 Continue" before any check, so a 6 MB upload went out
 * only to be refused, and a client could see the reset before the 413.)
 */
describe("Expect: 100-continue", () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startRegistry();
    await call(h, "POST", "/v1/namespaces", { name: "shop" });
    await h.registry.app.listen({ port: 0, host: "127.0.0.1" });
    port = (h.registry.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => h?.close());

  /** Announces `length` bytes and sends them only on "100 Continue"; records what came first. */
  const announce = (length: number, headers: Record<string, string>) =>
    new Promise<{ continued: boolean; status: number; body: string }>((resolve, reject) => {
      const body = Buffer.from(JSON.stringify({ blob: "x".repeat(Math.max(0, length - 12)) }));
      let continued = false;
      const req = request({
        host: "127.0.0.1",
        port,
        method: "PUT",
        path: "/v1/namespaces/shop/layers/base",
        agent: false,
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(body.length),
          expect: "100-continue",
        },
      });
      req.on("continue", () => {
        continued = true;
        req.end(body);
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          req.destroy();
          resolve({ continued, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        });
      });
      req.on("error", (err) => (continued ? undefined : reject(err)));
      req.flushHeaders();
    });

  it("refuses a body over the limit with 413 before asking for it", async () => {
    const r = await announce(6 * 1024 * 1024, withAuth(h, {}) as Record<string, string>);
    expect(r.continued).toBe(false);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.code).toBe("body_too_large");
  });

  it("refuses a request without a token before asking for its body", async () => {
    const r = await announce(200_000, {});
    expect(r.continued).toBe(false);
    expect(r.status).toBe(401);
  });

  it("asks for a body within the limit and stores it", async () => {
    const r = await announce(200_000, withAuth(h, {}) as Record<string, string>);
    expect(r.continued).toBe(true);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).changed).toBe(true);
  });
});
