import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startRegistry } from "../../services/config-registry/test/integration/harness.js";
import {
  type Harness as NotifierHarness,
  raised,
  startNotifier,
} from "../../services/notifier/test/integration/harness.js";
import { recordFigure } from "./figures.js";

/**
 * Every URL a user can give a service (notifier receivers, Git sources) pointed at a loopback
 * canary, the link-local metadata address and their disguises: refused, the canary sees no
 * connection. Webhook signature variants are in webhooks-signatures.test.ts.
 */

const SECRET = "fault-suite-webhook-secret";

/** A TCP server on loopback that counts who connects (and answers nothing). */
async function startCanary(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    connections += 1;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections: () => connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("URLs pointed at loopback and metadata addresses (SSRF)", () => {
  let canary: Awaited<ReturnType<typeof startCanary>>;
  beforeAll(async () => {
    canary = await startCanary();
  });
  afterAll(async () => canary?.close());

  const hostile = () => {
    const p = canary.port;
    return [
      `http://127.0.0.1:${p}/hook`,
      `http://localhost:${p}/hook`,
      `http://LOCALHOST.:${p}/hook`,
      `http://127.1:${p}/hook`,
      `http://2130706433:${p}/hook`,
      `http://0x7f000001:${p}/hook`,
      `http://[::ffff:127.0.0.1]:${p}/hook`,
      `http://[::1]:${p}/hook`,
      `http://0.0.0.0:${p}/hook`,
      "http://169.254.169.254/latest/meta-data/",
      "http://[fd00:ec2::254]/latest/meta-data/",
      "http://metadata.google.internal/computeMetadata/v1/",
      `http://user:pass@127.0.0.1:${p}/hook`,
    ];
  };

  it("notifier: webhook, Slack and PagerDuty receivers and SMTP hosts on those addresses are never connected to", async () => {
    // No allow-list: what a deployment without OUTBOUND_ALLOW_ADDRESSES gets (http allowed, so the
    // address is what refuses).
    const n: NotifierHarness = await startNotifier({
      outbound: { allowHttp: true, allowAddresses: [], timeoutMs: 2_000, maxResponseBytes: 4096 },
      delivery: { maxAttempts: 1, backoffBaseMs: 20, backoffMaxMs: 50, leaseMs: 2_000 },
    });
    try {
      const receivers = hostile().flatMap((url, i) => [
        { name: `hook-${i}`, type: "webhook", url },
        { name: `slack-${i}`, type: "slack", webhookUrl: url },
        { name: `pd-${i}`, type: "pagerduty", routingKey: "r".repeat(32), url },
      ]);
      receivers.push({
        name: "mail",
        type: "email",
        from: "nexus@example.com",
        to: ["oncall@example.com"],
        smtp: { host: "127.0.0.1", port: canary.port },
      } as never);
      let refusedAtWrite = 0;
      let accepted = 0;
      for (const receiver of receivers) {
        const res = await n.call("PUT", "/v1/routing", {
          route: { receiver: receiver.name, groupWaitMs: 0 },
          receivers: [receiver],
        });
        expect(res.status, `${receiver.name}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
        if (res.status >= 400) {
          refusedAtWrite += 1;
          expect(res.body.error.code).toBeTruthy();
          continue;
        }
        accepted += 1;
        await n.publish("nexus.alert.raised", raised({ fingerprint: `ssrf-${receiver.name}` }));
        await n.until(async () => {
          const list = await n.call("GET", `/v1/deliveries?receiver=${receiver.name}`);
          return list.body.items.some(
            (d: { status: string }) => d.status === "dead" || d.status === "failed",
          );
        }, 15_000);
      }
      expect(canary.connections()).toBe(0);
      await recordFigure({
        fault:
          "SSRF: notifier receivers (webhook, Slack, PagerDuty, SMTP) at loopback/metadata addresses and disguises",
        outcome: "refused when saved or when sending, never connected",
        figure: `${receivers.length} receivers: ${refusedAtWrite} refused at write, ${accepted} dead at send, canary connections 0`,
      });
    } finally {
      await n.close();
    }
  }, 120_000);

  // Git sources follow the same address policy (GIT_ALLOW_ADDRESSES empty here): literal hosts
  // are refused when saved, host names are checked after DNS before each fetch.
  it("registry: Git sources at those addresses are refused and never fetched", async () => {
    const h = await startRegistry();
    try {
      expect((await call(h, "POST", "/v1/namespaces", { name: "ssrf" })).status).toBe(201);
      const urls = [
        ...hostile().map((u) => u.replace(/^http:/, "https:").replace("/hook", "/acme/config.git")),
        `ssh://git@127.0.0.1:${canary.port}/acme/config.git`,
        `git@127.0.0.1:acme/config.git`,
        `ext::sh -c nc% 127.0.0.1% ${canary.port}`,
        `http://127.0.0.1:${canary.port}/acme/config.git`,
      ];
      let refused = 0;
      const reached: string[] = [];
      for (const [i, url] of urls.entries()) {
        const res = await call(h, "POST", "/v1/git-sources", {
          name: `ssrf-${i}`,
          provider: "github",
          url,
          repository: `acme/ssrf-${i}`,
          namespaces: ["ssrf"],
          environments: { staging: "main" },
          webhookSecret: SECRET,
        });
        expect(res.status, url).toBeLessThan(500);
        if (res.status >= 400) {
          refused += 1;
          continue;
        }
        const seen = canary.connections();
        // A fetch that reached the canary waits for an answer that never comes: do not wait for it.
        await Promise.race([
          call(h, "POST", `/v1/git-sources/ssrf-${i}/resync`, { branch: "main" }),
          new Promise((r) => setTimeout(r, 1_500)),
        ]);
        if (canary.connections() > seen) reached.push(url);
      }
      await new Promise((r) => setTimeout(r, 1_000));
      expect(reached).toEqual([]);
      expect(canary.connections()).toBe(0);
      await recordFigure({
        fault: "SSRF: registry Git source URLs at loopback/metadata addresses, ssh, scp-style and ext::",
        outcome: "refused when saved, never fetched",
        figure: `${urls.length} URLs: ${refused} refused at write, canary connections 0`,
      });
    } finally {
      await h.close();
    }
  }, 120_000);
});
