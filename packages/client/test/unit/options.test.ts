import { describe, expect, it } from "vitest";
import { z } from "zod";
import { NexusConfigError } from "../../src/errors.js";
import { type ConnectConfigOptions, parseOptions } from "../../src/options.js";

const valid: ConnectConfigOptions = {
  namespace: "payments-api",
  environment: "production",
  service: "payments",
  url: "http://127.0.0.1:4100",
};

function refusal(options: unknown): NexusConfigError {
  try {
    parseOptions(options as ConnectConfigOptions);
  } catch (err) {
    if (err instanceof NexusConfigError) return err;
    throw err;
  }
  throw new Error("expected the options to be refused");
}

describe("parseOptions", () => {
  it("fills in defaults: prefix nexus, 30 s heartbeats, 30 s polls without NATS, 5 min with", () => {
    const s = parseOptions(valid);
    expect(s).toMatchObject({ subjectPrefix: "nexus", heartbeatSeconds: 30, pollIntervalMs: 30_000 });
    expect(s.requestTimeoutMs).toBe(5_000);
    expect(parseOptions({ ...valid, nats: { servers: "127.0.0.1:4222" } }).pollIntervalMs).toBe(300_000);
    expect(parseOptions({ ...valid, pollIntervalMs: 1_000 }).pollIntervalMs).toBe(1_000);
  });

  it("names the bad option in `field`, with code invalid_options", () => {
    expect(refusal({ ...valid, namespace: "Payments API" })).toMatchObject({
      code: "invalid_options",
      field: "namespace",
    });
    expect(refusal({ ...valid, url: "ftp://x" }).field).toBe("url");
    expect(refusal({ ...valid, subjectPrefix: "Nexus.Prod" }).field).toBe("subjectPrefix");
    expect(refusal({ ...valid, heartbeatSeconds: 0 }).field).toBe("heartbeatSeconds");
    expect(refusal({ ...valid, service: "" }).field).toBe("service");
    expect(refusal({ ...valid, schema: { parse: () => ({}) } }).field).toBe("schema");
    expect(refusal({ ...valid, logger: { info: () => undefined } }).field).toBe("logger");
    expect(refusal({ ...valid, nats: "nats://x" }).field).toBe("nats");
    expect(refusal(null).code).toBe("invalid_options");
  });

  it("needs a way to read: url, nats, or both", () => {
    const { url: _url, ...noUrl } = valid;
    expect(refusal(noUrl)).toMatchObject({ code: "invalid_options", field: "url" });
    expect(parseOptions({ ...noUrl, nats: { servers: "127.0.0.1:4222" } }).url).toBeUndefined();
  });

  it("accepts a zod schema and a pino-shaped logger", () => {
    const schema = z.object({ port: z.number() });
    const lines: string[] = [];
    const logger = {
      debug: () => undefined,
      info: (_o: object, m?: string) => void lines.push(m ?? ""),
      warn: () => undefined,
      error: () => undefined,
    };
    const s = parseOptions({ ...valid, schema, logger });
    expect(s.schema).toBe(schema);
    s.logger.info({}, "hello");
    expect(lines).toEqual(["hello"]);
  });
});
