/** `nexus monitor` in-process against the real monitor (Postgres, NATS) on a loopback port. */
import { mkdtemp, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  type Harness,
  startBeating,
  startMonitor,
} from "../../../../services/monitor/test/integration/harness.js";
import { runNexus } from "./in-process.js";

describe("nexus monitor", () => {
  let h: Harness;
  let url: string;

  const nexus = (...args: string[]) => runNexus({ NEXUS_MONITOR_URL: url, NEXUS_TOKEN: h.adminToken }, args);

  beforeAll(async () => {
    h = await startMonitor({ expectedServices: ["notifier"] });
    await h.app.app.listen({ port: 0, host: "127.0.0.1" });
    url = `http://127.0.0.1:${(h.app.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => h?.close());

  it("checks, saves and lists alert rule versions; a bad file is refused with the field and exit 4", async () => {
    const dir = await mkdtemp("/tmp/nexus-monitor-cli-");
    await writeFile(
      `${dir}/dup.yaml`,
      "rules:\n  - {name: down, kind: service_down}\n  - {name: down, kind: instance_down}\n",
    );
    const dry = await nexus("monitor", "rules", "apply", "--dry-run", "-f", `${dir}/dup.yaml`);
    expect(dry.code).toBe(4);
    expect(dry.err).toContain('rule name "down" is used by rules 0 and 1');
    await writeFile(
      `${dir}/rules.yaml`,
      "rules:\n  - name: down\n    kind: service_down\n    for: 30s\n  - name: lag\n    kind: consumer_lag\n    threshold: 500\n    for: 5m\n",
    );
    const checked = await nexus("monitor", "rules", "apply", "--dry-run", "-f", `${dir}/rules.yaml`);
    expect(checked).toMatchObject({ code: 0, out: "The rule set is valid (2 rules); nothing was saved.\n" });
    const saved = await nexus("monitor", "rules", "apply", "-f", `${dir}/rules.yaml`, "-m", "first");
    expect(saved).toMatchObject({ code: 0, out: "Saved alert rules version 1 (2 rules).\n" });
    const stale = await nexus("monitor", "rules", "apply", "-f", `${dir}/rules.yaml`, "--if-match", "7");
    expect(stale.code).not.toBe(0);
    expect(stale.err).toContain("version 1, not 7");
    const history = await nexus("monitor", "rules", "history");
    expect(history.out).toMatch(/^v1 {2}\S+ {2}alice {2}first\n$/);
    const shown = await nexus("--json", "monitor", "rules", "show");
    expect(JSON.parse(shown.out).rules.map((r: { name: string }) => r.name)).toEqual(["down", "lag"]);
  });

  it("prints service health in words", async () => {
    const beating = await startBeating(h, "notifier", "n-7", 0.2);
    try {
      await eventually(
        () => nexus("monitor", "health"),
        (r) => r.out.includes("n-7  up"),
      );
      const health = await nexus("monitor", "health");
      expect(health.out).toContain("Overall: healthy");
      expect(health.out).toContain("notifier  up  (1 instance(s) up)");
    } finally {
      await beating.stop();
    }
  });
});
