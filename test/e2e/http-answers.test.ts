import type { IncomingHttpHeaders } from "node:http";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { type App, SECURITY_HEADERS } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../services/config-registry/test/integration/harness.js";
import { startWorld, type World } from "../../services/drift-detector/test/integration/harness.js";
import {
  type Harness as NotifierHarness,
  startNotifier,
} from "../../services/notifier/test/integration/harness.js";

/**
 * Every answer of every service carries the same security headers and a request id, whatever
 * decided it: a route, the access hook (401, 403, the 404 that hides a namespace), the error
 * handler (400, 413), fastify's router (404, 414, a URL that does not decode) or Node's HTTP
 * parser (431). Requests go over real sockets, since some of these never reach fastify's
 * inject path. A client still uploading an oversized body reads the 413 instead of a reset.
 */

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Case {
  name: string;
  status: number;
  method?: string;
  path: string;
  token?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One request over node:http; the body is written in 64 KiB pieces, as a file upload would be. */
function send(port: number, c: Case): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = c.body === undefined ? undefined : Buffer.from(c.body);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: c.method ?? "GET",
        path: c.path,
        headers: {
          ...(c.token ? { authorization: `Bearer ${c.token}` } : {}),
          ...(body ? { "content-type": "application/json", "content-length": String(body.length) } : {}),
          ...c.headers,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    if (!body) return void req.end();
    let offset = 0;
    const writeMore = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + 65_536);
        offset += piece.length;
        if (!req.write(piece)) return void req.once("drain", writeMore);
      }
      req.end();
    };
    writeMore();
  });
}

const listen = async (app: App) => {
  await app.listen({ port: 0, host: "127.0.0.1" });
  return (app.server.address() as AddressInfo).port;
};

/** The headers every answer must carry, as this answer has them. */
const standardHeadersOf = (a: Answer) =>
  Object.fromEntries(Object.keys(SECURITY_HEADERS).map((name) => [name, a.headers[name]]));

const SEVERAL_MB = Buffer.alloc(6 * 1024 * 1024, "a");
const LONG_SEGMENT = "n".repeat(150); // fastify allows 100 characters per path parameter
const HUGE_HEADER = { "x-padding": "p".repeat(20_000) };

/** Answers every service gives the same way, from the kit. */
const kitCases = (
  read: string,
  token: string,
  write: { method: string; path: string },
  /** A route with a path parameter, completed by an over-long one. */
  withParam: string,
): Case[] => [
  { name: "a probe", status: 200, path: "/livez" },
  { name: "no token", status: 401, path: read },
  { name: "an unknown token", status: 401, path: read, token: "not-a-real-token" },
  { name: "no route", status: 404, path: "/v1/no-such-route", token },
  { name: "a malformed body", status: 400, ...write, token, body: "{not json" },
  { name: "a body of several MB", status: 413, ...write, token, body: SEVERAL_MB },
  { name: "a path segment too long", status: 414, path: `${withParam}${LONG_SEGMENT}`, token },
  { name: "a URL that does not decode", status: 400, path: `${read}%zz`, token },
  { name: "headers too large", status: 431, path: read, token, headers: HUGE_HEADER },
];

describe("every answer of every service carries the same headers", () => {
  let world: World;
  let notifier: NotifierHarness;
  const ports: Record<string, number> = {};
  const cases: Record<string, Case[]> = {};
  const answers: Array<{ service: string; name: string; answer: Answer }> = [];

  beforeAll(async () => {
    [world, notifier] = await Promise.all([startWorld(), startNotifier()]);
    const registry = world.registry;
    expect((await call(registry, "POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
    expect((await call(registry, "POST", "/v1/namespaces", { name: "hidden" })).status).toBe(201);
    const shopViewer = await registry.tokenFor(["viewer:shop"]);
    const detectorViewer = await world.issuer.token(["viewer"], { subject: "vera" });
    const notifierViewer = await notifier.issuer.token(["viewer"], { subject: "vera", expiresIn: "1h" });
    ports.registry = await listen(registry.registry.app);
    ports["drift-detector"] = await listen(world.detector.app.app);
    ports.notifier = await listen(notifier.app.app);

    cases.registry = [
      { name: "a read", status: 200, path: "/v1/namespaces/shop", token: shopViewer },
      {
        name: "a role it lacks",
        status: 403,
        method: "POST",
        path: "/v1/tokens",
        token: shopViewer,
        body: "{}",
      },
      { name: "a namespace hidden from it", status: 404, path: "/v1/namespaces/hidden", token: shopViewer },
      ...kitCases(
        "/v1/namespaces",
        registry.adminToken,
        {
          method: "PUT",
          path: "/v1/namespaces/shop/layers/base",
        },
        "/v1/namespaces/",
      ),
      {
        name: "a Git webhook of several MB",
        status: 413,
        method: "POST",
        path: "/v1/webhooks/github",
        body: SEVERAL_MB,
      },
    ];
    cases["drift-detector"] = [
      { name: "a read", status: 200, path: "/v1/findings", token: detectorViewer },
      {
        name: "a role it lacks",
        status: 403,
        method: "POST",
        path: "/v1/policies",
        token: detectorViewer,
        body: "{}",
      },
      ...kitCases(
        "/v1/findings",
        world.adminToken,
        { method: "POST", path: "/v1/policies" },
        "/v1/policies/",
      ),
    ];
    cases.notifier = [
      { name: "a read", status: 200, path: "/v1/routing", token: notifierViewer },
      {
        name: "a role it lacks",
        status: 403,
        method: "PUT",
        path: "/v1/routing",
        token: notifierViewer,
        body: "{}",
      },
      ...kitCases("/v1/alerts", notifier.adminToken, { method: "PUT", path: "/v1/routing" }, "/v1/silences/"),
      {
        name: "an Alertmanager post of several MB",
        status: 413,
        method: "POST",
        path: "/v1/intake/alertmanager",
        body: SEVERAL_MB,
      },
    ];
    for (const [service, list] of Object.entries(cases)) {
      for (const c of list) answers.push({ service, name: c.name, answer: await send(ports[service]!, c) });
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled([world?.close(), notifier?.close()]);
  });

  it("answers each case with the status it is meant to get", () => {
    const got = answers.map((a) => `${a.service}: ${a.name} → ${a.answer.status}`);
    const meant = Object.entries(cases).flatMap(([service, list]) =>
      list.map((c) => `${service}: ${c.name} → ${c.status}`),
    );
    expect(got).toEqual(meant);
  });

  it("gives every answer, refusals included, the security headers and a request id that its error body quotes", () => {
    for (const { service, name, answer } of answers) {
      const where = `${service}: ${name}`;
      expect(standardHeadersOf(answer), where).toEqual(SECURITY_HEADERS);
      const requestId = answer.headers["x-request-id"];
      expect(requestId, where).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      if (answer.status >= 400) {
        expect(JSON.parse(answer.body).error, where).toMatchObject({ code: expect.any(String), requestId });
      }
    }
  });

  it("states the limit in a 413 and the size limit in a 431", () => {
    const tooLarge = answers.filter((a) => a.answer.status === 413);
    expect(tooLarge.length).toBe(5);
    for (const { answer } of tooLarge) {
      expect(JSON.parse(answer.body).error).toMatchObject({ code: "body_too_large" });
    }
    const layer = answers.find((a) => a.service === "registry" && a.name === "a body of several MB")!;
    expect(JSON.parse(layer.answer.body).error.message).toBe(
      "The body is larger than allowed: at most 1 MiB",
    );
    const headers = answers.find((a) => a.answer.status === 431)!;
    expect(JSON.parse(headers.answer.body).error).toMatchObject({ code: "headers_too_large" });
  });

  it("lets fetch read the 413 of a several-MB body, on every service, every time", async () => {
    const uploads: Record<string, string> = {
      registry: "/v1/webhooks/github",
      "drift-detector": "/v1/no-such-route",
      notifier: "/v1/intake/alertmanager",
    };
    for (const [service, port] of Object.entries(ports)) {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`http://127.0.0.1:${port}${uploads[service]}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: SEVERAL_MB,
        }).catch((err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message);
        expect(typeof res === "string" ? res : res.status, service).toBe(413);
        if (typeof res !== "string") await res.arrayBuffer();
      }
    }
  });
});
