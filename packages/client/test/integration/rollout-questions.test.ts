import { randomUUID } from "node:crypto";
import { RolloutGateReply, rolloutGateSubject, rolloutTargetSubject } from "@nexus/contracts";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectConfig, type NexusConfig } from "../../src/index.js";
import { type Harness, inject, recordAcks, startListeningRegistry, writeLayer } from "./support.js";

/**
 * Which revisions the SDK asks the orchestrator about, against the real registry: a stand-in
 * orchestrator answers the rollout question (`apply`) and counts what it was asked.
 */
describe("SDK rollout questions follow the registry's rollout gates", () => {
  let h: Harness;
  let url: string;
  let cfg: NexusConfig<unknown> | undefined;
  const asked: number[] = [];

  beforeAll(async () => {
    ({ h, url } = await startListeningRegistry());
    await inject(h, { method: "POST", url: "/v1/namespaces", payload: { name: "gated" } });
    await writeLayer(h, "gated", "base", { n: 0 });
    const questions = h.nats.nc.subscribe(
      h.nats.bus.subject(rolloutTargetSubject({ environment: "production", namespace: "gated" })),
    );
    void (async () => {
      for await (const m of questions) {
        asked.push((m.json() as { revision: number }).revision);
        m.respond(JSON.stringify({ ok: true, decision: "apply" }));
      }
    })();
  });
  afterAll(async () => {
    await cfg?.close();
    await h?.close();
  });

  it("applies writes made with no gate open without asking, and asks about each one made while a gate is open", async () => {
    cfg = await connectConfig({
      namespace: "gated",
      environment: "production",
      service: "gated-api",
      url,
      token: h.adminToken,
      nats: { servers: TEST_NATS_URL },
      subjectPrefix: h.nats.prefix,
    });
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "gated");
    const applied = async (n: number) => {
      const w = await writeLayer(h, "gated", "base", { n });
      await acks.waitFor((a) => a.revision === w.revision && a.status === "applied", `ack of ${n}`);
      return w.revision as number;
    };
    const askedAtStart = asked.length;
    for (let n = 1; n <= 3; n++) await applied(n);
    expect(asked.slice(askedAtStart)).toEqual([]);

    const runId = randomUUID();
    const gate = (open: boolean) =>
      h.nats.bus.requestCommand(
        rolloutGateSubject({ environment: "production", namespace: "gated" }),
        { schemaVersion: 1, namespace: "gated", environment: "production", runId, open },
        RolloutGateReply,
      );
    expect(await gate(true)).toMatchObject({ ok: true, runIds: [runId] });
    const gated = [await applied(4), await applied(5)];
    expect(asked.slice(askedAtStart)).toEqual(gated);

    expect(await gate(false)).toMatchObject({ ok: true, runIds: [] });
    await applied(6);
    expect(asked.slice(askedAtStart)).toEqual(gated);
    acks.stop();
  });
});
