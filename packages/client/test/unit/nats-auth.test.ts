import type { ConnectionOptions, NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { NexusConfigError } from "../../src/errors.js";
import { type ConnectConfigOptions, parseOptions } from "../../src/options.js";

const valid: ConnectConfigOptions = {
  namespace: "payments-api",
  environment: "production",
  service: "payments",
  nats: { servers: "127.0.0.1:4222" },
};
const SEED = `SU${"A".repeat(56)}`;

function refusal(options: unknown): NexusConfigError {
  try {
    parseOptions(options as ConnectConfigOptions);
  } catch (err) {
    if (err instanceof NexusConfigError) return err;
    throw err;
  }
  throw new Error("expected the options to be refused");
}

const natsOf = (options: ConnectConfigOptions) => parseOptions(options).nats as ConnectionOptions;

describe("NATS credentials and inbox prefix options", () => {
  it("turns each kind of credentials into an authenticator and keeps the rest of the connection options", () => {
    for (const natsCredentials of [
      { user: "payments-api", password: "pw" },
      { token: "t0k3n" },
      { nkeySeed: SEED },
      { credsFile: import.meta.filename },
    ]) {
      const nats = natsOf({ ...valid, natsCredentials, natsInboxPrefix: "_INBOX_payments-api" });
      expect(typeof nats.authenticator).toBe("function");
      expect(nats).toMatchObject({ servers: "127.0.0.1:4222", inboxPrefix: "_INBOX_payments-api" });
    }
    const auth = natsOf({
      ...valid,
      natsCredentials: { user: "payments-api", password: "pw" },
    }).authenticator;
    expect(typeof auth === "function" && auth()).toEqual({ user: "payments-api", pass: "pw" });
  });

  it("keeps credentials out of the settings (only inside the connection options)", () => {
    const settings = parseOptions({ ...valid, natsCredentials: { user: "u", password: "secret-pw" } });
    expect(JSON.stringify({ ...settings, nats: undefined })).not.toContain("secret-pw");
    expect(settings).not.toHaveProperty("natsCredentials");
  });

  it("leaves the connection options alone without them", () => {
    expect(parseOptions(valid).nats).toBe(valid.nats);
  });

  it("refuses malformed credentials and prefixes, naming the option, never echoing a secret", () => {
    const half = refusal({ ...valid, natsCredentials: { user: "payments-api" } });
    expect(half).toMatchObject({ code: "invalid_options", field: "natsCredentials" });
    const mixed = refusal({ ...valid, natsCredentials: { token: "hunter2", user: "x", password: "y" } });
    expect(mixed.field).toBe("natsCredentials");
    expect(JSON.stringify({ message: mixed.message, details: mixed.details })).not.toContain("hunter2");
    expect(refusal({ ...valid, natsCredentials: { nkeySeed: "SUnope" } }).field).toBe(
      "natsCredentials.nkeySeed",
    );
    for (const natsInboxPrefix of ["_INBOX.>", "a..b", "in box", ""]) {
      expect(refusal({ ...valid, natsInboxPrefix }).field).toBe("natsInboxPrefix");
    }
  });

  it("refuses a creds file it cannot read, up front", () => {
    expect(
      refusal({ ...valid, natsCredentials: { credsFile: "/nonexistent/payments.creds" } }),
    ).toMatchObject({
      code: "invalid_options",
      field: "natsCredentials.credsFile",
    });
  });

  it("refuses credentials given twice, or without a connection the client opens", () => {
    const twice = refusal({
      ...valid,
      nats: { servers: "127.0.0.1:4222", user: "a", pass: "b" },
      natsCredentials: { token: "t" },
    });
    expect(twice.field).toBe("natsCredentials");
    const { nats: _nats, ...noNats } = valid;
    expect(refusal({ ...noNats, url: "http://127.0.0.1:4100", natsInboxPrefix: "_INBOX_x" }).field).toBe(
      "natsInboxPrefix",
    );
    const own = { subscribe() {}, request() {}, isClosed: () => false } as unknown as NatsConnection;
    expect(refusal({ ...valid, nats: own, natsCredentials: { token: "t" } }).field).toBe("natsCredentials");
  });
});
