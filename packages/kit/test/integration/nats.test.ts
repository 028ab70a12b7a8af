import { Writable } from "node:stream";
import { testConfig } from "@nexus/test-fixtures";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { connectNats, natsHealthy } from "../../src/nats.js";

describe("connectNats", () => {
  it("connects, reports healthy until closed, and never logs the password", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ service: "nats-test", level: "debug" }, sink);
    // The local server has no auth and ignores credentials; what matters is what reaches the log.
    const url = testConfig.natsUrl.replace("nats://", "nats://probe:url-secret@");
    const nc = await connectNats({ url, user: "probe", password: "hunter2", name: "nats-test", logger });
    expect(await natsHealthy(nc)).toBe(true);
    await nc.close();
    expect(await natsHealthy(nc)).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    const log = lines.join("");
    expect(log).toContain("connected to NATS");
    expect(log).toContain("NATS connection closed");
    expect(log).not.toContain("hunter2");
    expect(log).not.toContain("url-secret");
  });
});
