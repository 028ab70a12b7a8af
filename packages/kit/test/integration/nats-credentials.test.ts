import { nkeys } from "@nats-io/transport-node";
import { type NatsServerProcess, natsServerBinary, startNatsServer } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { connectNats } from "../../src/nats.js";

const binary = natsServerBinary();
if (!binary)
  console.warn("nats-credentials.test.ts skipped: no nats-server binary (/usr/sbin/nats-server or on PATH)");

const logger = createLogger({ service: "nats-credentials-test", level: "silent" });
const seedOf = (kp: ReturnType<typeof nkeys.createUser>) => new TextDecoder().decode(kp.getSeed());

describe.skipIf(!binary)(
  "connectNats credentials (NATS_NKEY_SEED, NATS_CREDS_FILE) on a server with authorization",
  () => {
    const service = nkeys.createUser();
    let server: NatsServerProcess;
    beforeAll(async () => {
      server = await startNatsServer(
        binary!,
        `authorization { users: [ { nkey: ${service.getPublicKey()} }, { user: svc, password: "pw" } ] }\n`,
      );
    });
    afterAll(async () => server?.stop());

    it("logs in with an nkey seed, and the server refuses another seed", async () => {
      const nc = await connectNats({ url: server.url, nkeySeed: seedOf(service), name: "nkey-test", logger });
      await nc.flush();
      await nc.close();
      await expect(
        connectNats({
          url: server.url,
          nkeySeed: seedOf(nkeys.createUser()),
          name: "nkey-test",
          logger,
          waitOnFirstConnect: false,
        }),
      ).rejects.toThrow(/Authorization/i);
    });

    it("refuses two kinds of credentials at once, and a creds file it cannot read, naming the variable", async () => {
      const both = connectNats({
        url: server.url,
        user: "svc",
        password: "pw",
        nkeySeed: seedOf(service),
        name: "x",
        logger,
      });
      await expect(both).rejects.toThrow(
        "set one of NATS_USER, NATS_CREDS_FILE or NATS_NKEY_SEED, not NATS_USER and NATS_NKEY_SEED",
      );
      await expect(
        connectNats({ url: server.url, credsFile: "/nonexistent/svc.creds", name: "x", logger }),
      ).rejects.toThrow("cannot read NATS_CREDS_FILE /nonexistent/svc.creds: ENOENT");
    });
  },
);
