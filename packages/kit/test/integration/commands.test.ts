import { CONFIG_SET_COMMAND, ConfigSetCommand, ConfigSetReply } from "@nexus/contracts";
import { createTestBus, type TestBus } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMAND_MAX_BYTES, encodeReply } from "../../src/bus/commands.js";
import { NotFoundError } from "../../src/errors.js";

describe("commands", () => {
  let t: TestBus;
  let stop: () => Promise<void>;
  // Checked and serialised once, sent as is to every request that gets it.
  const encoded = encodeReply(ConfigSetReply, {
    ok: true as const,
    namespace: "encoded",
    layer: "base",
    revision: 9,
    hash: "e",
  });
  beforeAll(async () => {
    t = await createTestBus();
    const responder = t.bus.serveCommand({
      subject: CONFIG_SET_COMMAND,
      request: ConfigSetCommand,
      reply: ConfigSetReply,
      queue: "config-registry",
      handler: async (cmd) => {
        if (cmd.namespace === "missing") {
          throw new NotFoundError("namespace_not_found", "no namespace missing", { field: "namespace" });
        }
        if (cmd.namespace === "crash") throw new Error("connection to postgres://admin:hunter2@db failed");
        if (cmd.namespace === "encoded") return encoded;
        return { ok: true as const, namespace: cmd.namespace, layer: cmd.layer, revision: 3, hash: "h" };
      },
    });
    stop = responder.stop;
    await t.nc.flush();
  });
  afterAll(async () => {
    await stop?.();
    await t?.cleanup();
  });

  const command = (over: Partial<ConfigSetCommand> = {}) => ({
    schemaVersion: 1 as const,
    namespace: "payments-api",
    layer: "base",
    content: { a: 1 },
    author: "alice",
    ...over,
  });

  it("answers a valid command (and no stream answers it first)", async () => {
    const reply = await t.bus.requestCommand(CONFIG_SET_COMMAND, command(), ConfigSetReply, 2_000);
    expect(reply).toEqual({ ok: true, namespace: "payments-api", layer: "base", revision: 3, hash: "h" });
  });

  it("sends a reply encoded in advance as it is, and refuses to encode one that breaks its schema", async () => {
    for (let i = 0; i < 2; i++) {
      const raw = await t.nc.request(
        t.bus.subject(CONFIG_SET_COMMAND),
        JSON.stringify(command({ namespace: "encoded" })),
        {
          timeout: 2_000,
        },
      );
      expect(raw.string()).toBe(encoded.json);
    }
    expect(JSON.parse(encoded.json)).toEqual({
      ok: true,
      namespace: "encoded",
      layer: "base",
      revision: 9,
      hash: "e",
    });
    expect(() => encodeReply(ConfigSetReply, { ok: true, namespace: "x" } as never)).toThrow();
  });

  it("refuses an invalid command with 400 and the failing field", async () => {
    const { author: _a, ...noAuthor } = command();
    const reply = await t.bus.requestCommand(CONFIG_SET_COMMAND, noAuthor, ConfigSetReply, 2_000);
    expect(reply).toMatchObject({
      ok: false,
      error: { statusCode: 400, code: "invalid_command", field: "author" },
    });
    const raw = await t.nc.request(t.bus.subject(CONFIG_SET_COMMAND), "{nope", { timeout: 2_000 });
    expect(raw.json()).toMatchObject({
      ok: false,
      error: { statusCode: 400, code: "invalid_command", field: "body" },
    });
    const array = await t.nc.request(t.bus.subject(CONFIG_SET_COMMAND), "[1]", { timeout: 2_000 });
    expect(array.json()).toMatchObject({ ok: false, error: { code: "invalid_command", field: "body" } });
  });

  it("refuses a request past the size limit with 413 before parsing it, and still answers after", async () => {
    const huge = JSON.stringify(command({ message: "x".repeat(COMMAND_MAX_BYTES) }));
    const raw = await t.nc.request(t.bus.subject(CONFIG_SET_COMMAND), huge, { timeout: 2_000 });
    expect(raw.json()).toMatchObject({
      ok: false,
      error: { statusCode: 413, code: "payload_too_large", field: "body" },
    });
    const after = await t.bus.requestCommand(CONFIG_SET_COMMAND, command(), ConfigSetReply, 2_000);
    expect(after).toMatchObject({ ok: true });
  });

  it("maps AppErrors, and hides unknown errors behind a generic 500", async () => {
    const missing = await t.bus.requestCommand(
      CONFIG_SET_COMMAND,
      command({ namespace: "missing" }),
      ConfigSetReply,
    );
    expect(missing).toEqual({
      ok: false,
      error: {
        statusCode: 404,
        code: "namespace_not_found",
        message: "no namespace missing",
        field: "namespace",
      },
    });
    const crash = await t.bus.requestCommand(
      CONFIG_SET_COMMAND,
      command({ namespace: "crash" }),
      ConfigSetReply,
    );
    expect(crash).toEqual({
      ok: false,
      error: { statusCode: 500, code: "internal_error", message: "internal error" },
    });
  });

  it("reports 503 when nothing serves the subject", async () => {
    await expect(
      t.bus.requestCommand("nexus.config.cmd.nobody", {}, ConfigSetReply, 1_000),
    ).rejects.toMatchObject({
      statusCode: 503,
      code: "command_unavailable",
    });
  });
});
