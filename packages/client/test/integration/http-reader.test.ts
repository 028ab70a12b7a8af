/**
 * The HTTP reader against a real HTTP server that misbehaves in the ways a registry behind a
 * proxy can: never answering, answering 304, answering an error page, answering garbage.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NexusConfigError } from "../../src/errors.js";
import { createHttpReader } from "../../src/http-reader.js";

const hash = "a".repeat(64);
let server: Server;
let base: string;
const seen: { url: string; headers: Record<string, unknown> }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    const ns = req.url?.split("/")[3];
    if (ns === "hangs") return; // never answers
    if (ns === "same") {
      res.writeHead(304, { etag: `"${hash}"`, "nexus-revision": "7" });
      return res.end();
    }
    if (ns === "proxy") {
      res.writeHead(502, { "content-type": "text/html" });
      return res.end("<html>bad gateway</html>");
    }
    if (ns === "garbage") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end("{not json");
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ namespace: ns, environment: "production", revision: 7, hash, content: { a: 1 } }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const reader = (namespace: string, timeoutMs = 2_000) =>
  createHttpReader({
    url: `${base}/`,
    token: "nxs_token",
    namespace,
    environment: "production",
    timeoutMs,
    userAgent: "nexus-client/test",
  });

async function failure(p: Promise<unknown>): Promise<NexusConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NexusConfigError);
  return err as NexusConfigError;
}

describe("HTTP reader", () => {
  it("reads a document with the token, the user agent and If-None-Match", async () => {
    const result = await reader("payments").read("b".repeat(64));
    expect(result).toEqual({
      kind: "document",
      document: { namespace: "payments", environment: "production", revision: 7, hash, content: { a: 1 } },
    });
    const request = seen.at(-1)!;
    expect(request.url).toBe("/v1/namespaces/payments/environments/production/resolved");
    expect(request.headers).toMatchObject({
      authorization: "Bearer nxs_token",
      "user-agent": "nexus-client/test",
      "if-none-match": `"${"b".repeat(64)}"`,
    });
  });

  it("turns a 304 into not-modified with the hash and revision the registry sent", async () => {
    expect(await reader("same").read(hash)).toEqual({ kind: "not-modified", hash, revision: 7 });
  });

  it("gives up on a registry that never answers after the timeout, as unavailable", async () => {
    const started = Date.now();
    const err = await failure(reader("hangs", 300).read(undefined));
    expect(err.code).toBe("unavailable");
    expect(err.message).toContain("no answer within 300 ms");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("says what went wrong with an error page or a body that is not JSON", async () => {
    const proxy = await failure(reader("proxy").read(undefined));
    expect(proxy.statusCode).toBe(502);
    expect(proxy.message).toContain("502");
    const garbage = await failure(reader("garbage").read(undefined));
    expect(garbage.code).toBe("invalid_response");
  });

  it("reports a registry that is not listening as unavailable", async () => {
    const closed = createHttpReader({
      url: "http://127.0.0.1:1",
      namespace: "payments",
      environment: "production",
      timeoutMs: 1_000,
      userAgent: "nexus-client/test",
    });
    const err = await failure(closed.read(undefined));
    expect(err.code).toBe("unavailable");
    expect(err.message).toMatch(/unreachable: .*ECONNREFUSED/);
  });
});
