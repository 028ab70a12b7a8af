import type { AddressInfo } from "node:net";
import { CONFIG_APPLIED, CONFIG_CHANGED, type ConfigApplied, type ConfigChanged } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Harness, startBeating, startMonitor } from "./harness.js";

const changed = (namespace: string, revision: number): ConfigChanged => ({
  schemaVersion: 1,
  namespace,
  environment: "production",
  revision,
  previousRevision: revision - 1,
  hash: "b".repeat(64),
  previousHash: null,
  layer: "production",
  changedPaths: ["/replicas"],
  trigger: "write",
  actor: "alice",
  source: "api",
});

const applied = (instanceId: string): ConfigApplied => ({
  schemaVersion: 1,
  service: "pay-api",
  instanceId,
  namespace: "pay-api",
  environment: "production",
  revision: 7,
  hash: "b".repeat(64),
  source: "live",
  trigger: "change",
  appliedAt: new Date().toISOString(),
  status: "applied",
});

interface Frame {
  event: string;
  data: ReturnType<typeof JSON.parse>;
}

/** The dashboard's event stream over real HTTP: what it sends to whom, and that shutdown ends it. */
describe("monitor: the dashboard event stream", () => {
  let h: Harness;
  let base: string;
  let closed = false;
  beforeAll(async () => {
    h = await startMonitor({ expectedServices: ["notifier"] });
    await h.app.app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(h.app.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    if (!closed) await h?.close();
  });

  it("is sent no dashboard-only messages while no stream is open", async () => {
    // The monitor shares this test's connection: what arrives on it are the PubAcks of these
    // publishes, plus what the monitor subscribed to.
    expect(h.app.hub.feeding()).toBe(false);
    const before = h.nats.nc.stats().inMsgs;
    for (let i = 0; i < 20; i++) await h.nats.bus.publish(CONFIG_APPLIED, applied(`pay-${i}`));
    await h.nats.nc.flush();
    expect(h.nats.nc.stats().inMsgs - before).toBeLessThan(30);

    const token = await h.issuer.token(["viewer:pay-*:*"], { subject: "pat" });
    const ctrl = new AbortController();
    const res = await fetch(`${base}/v1/dashboard/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: ctrl.signal,
    });
    expect(res.status).toBe(200);
    expect(h.app.hub.feeding()).toBe(true);
    const during = h.nats.nc.stats().inMsgs;
    for (let i = 0; i < 20; i++) await h.nats.bus.publish(CONFIG_APPLIED, applied(`pay-${i}`));
    await h.nats.nc.flush();
    expect(h.nats.nc.stats().inMsgs - during).toBeGreaterThanOrEqual(40);
    ctrl.abort();
    await eventually(
      async () => h.app.hub.feeding(),
      (open) => !open,
    );
  });

  it("sends heads only to those who may view them, health as it changes, and ends when the server closes", async () => {
    const token = await h.issuer.token(["viewer:pay-*:*"], { subject: "pat" });
    const res = await fetch(`${base}/v1/dashboard/events`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const frames: Frame[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const lines = buffer.slice(0, end).split("\n");
          buffer = buffer.slice(end + 2);
          const event = lines.find((l) => l.startsWith("event: "))?.slice(7);
          const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
          if (event && data) frames.push({ event, data: JSON.parse(data) });
        }
      }
    })();
    await eventually(
      async () => h.app.hub.size(),
      (n) => n === 1,
    );

    await h.nats.bus.publish(CONFIG_CHANGED, changed("hr-api", 4));
    await h.nats.bus.publish(CONFIG_CHANGED, changed("pay-api", 7));
    const head = await eventually(
      async () => frames.filter((f) => f.event === "head"),
      (heads) => heads.length > 0,
    );
    expect(head[0]?.data).toMatchObject({
      namespace: "pay-api",
      environment: "production",
      revision: 7,
      actor: "alice",
    });
    // The shared durable writes the grid (the changes delivered together in one statement).
    await eventually(
      async () =>
        (await h.db.pool.query("SELECT namespace, revision FROM config_heads ORDER BY namespace")).rows,
      (rows) =>
        JSON.stringify(rows) ===
        JSON.stringify([
          { namespace: "hr-api", revision: 4 },
          { namespace: "pay-api", revision: 7 },
        ]),
    );

    const beating = await startBeating(h, "notifier", "n-1", 0.2);
    const health = await eventually(
      async () => frames.filter((f) => f.event === "health"),
      (f) =>
        f.some((x) => x.data.services.some((s: { service: string; health: string }) => s.health === "up")),
    );
    expect(health.at(-1)?.data.status).toBe("healthy");
    await beating.stop();
    // hr-api was never sent to this stream.
    expect(frames.some((f) => f.event === "head" && f.data.namespace === "hr-api")).toBe(false);

    // Closing the server ends the stream at once instead of waiting for the client.
    const started = Date.now();
    closed = true;
    await h.close();
    await reading.catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
