import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpApp, type HttpApp } from "../../src/http/app.js";
import { createLogger } from "../../src/logger.js";

/** The per-request logger is a pino child made on first use; what it writes must not change. */
describe("request logger", () => {
  let http: HttpApp | undefined;
  afterEach(async () => {
    await http?.app.close();
    http = undefined;
  });

  async function appLoggingAt(level: "info" | "warn") {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    http = await createHttpApp({
      service: "logger-test",
      logger: createLogger({ service: "logger-test", level }, sink),
      checks: [],
      access: { authenticator: { authenticate: () => null } },
    });
    http.app.get("/quiet", { config: { access: { public: true, reason: "test" } } }, async () => ({ ok: 1 }));
    http.app.get("/loud", { config: { access: { public: true, reason: "test" } } }, async (request) => {
      request.log.warn({ token: "nxs_secret-value", step: "handler" }, "handler warned");
      return { ok: 2 };
    });
    await http.app.ready();
    return lines;
  }

  it("binds the request id to every line, and still redacts", async () => {
    const lines = await appLoggingAt("info");
    const response = await http!.app.inject({ url: "/loud", headers: { "x-request-id": "req-42" } });
    expect(response.statusCode).toBe(200);
    const warned = lines.find((l) => l.msg === "handler warned");
    expect(warned).toMatchObject({ reqId: "req-42", step: "handler", token: "[redacted]", level: "warn" });
    const completed = lines.find((l) => l.msg === "request completed");
    expect(completed).toMatchObject({ reqId: "req-42", url: "/loud", status: 200 });
    expect(JSON.stringify(lines)).not.toContain("nxs_secret-value");
  });

  it("writes nothing below its level, and each request keeps its own id", async () => {
    const lines = await appLoggingAt("warn");
    await http!.app.inject({ url: "/quiet", headers: { "x-request-id": "req-a" } });
    expect(lines).toEqual([]);
    await http!.app.inject({ url: "/loud", headers: { "x-request-id": "req-b" } });
    await http!.app.inject({ url: "/loud", headers: { "x-request-id": "req-c" } });
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([
      ["handler warned", "req-b"],
      ["handler warned", "req-c"],
    ]);
  });
});
