import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Harness, startBeating, startMonitor } from "./harness.js";

const run = promisify(execFile);
const INFRA = fileURLToPath(new URL("../../../../infra/", import.meta.url));
const RULES = join(INFRA, "prometheus/nexus-rules.yml");
/** The series infra/README.md documents; each must reach Prometheus. */
const SERIES = [
  "nexus_monitor_service_up",
  "nexus_monitor_instance_up",
  "nexus_monitor_dependency_up",
  "nexus_monitor_outbox_backlog",
  "nexus_monitor_consumer_lag",
  "nexus_monitor_dead_letters",
];

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

describe("infra/prometheus: the rules file and a real Prometheus scraping the monitor", () => {
  let h: Harness;
  let prometheus: ChildProcess;
  let dir: string;
  let api: string;
  let beating: Awaited<ReturnType<typeof startBeating>>;

  const query = async (q: string) => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    return (
      (await res.json()) as {
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      }
    ).data.result;
  };

  beforeAll(async () => {
    h = await startMonitor({ expectedServices: ["notifier"] });
    await h.app.app.listen({ host: "127.0.0.1", port: 0 });
    const monitorPort = (h.app.app.server.address() as AddressInfo).port;
    beating = await startBeating(h, "notifier", "n-1", 0.2);
    dir = await mkdtemp(join(tmpdir(), "nexus-prometheus-"));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    await writeFile(
      join(dir, "prometheus.yml"),
      [
        "global: { scrape_interval: 1s, evaluation_interval: 1s }",
        `rule_files: ["${RULES}"]`,
        "scrape_configs:",
        "  - job_name: nexus-monitor",
        "    honor_labels: true",
        `    static_configs: [{ targets: ["127.0.0.1:${monitorPort}"] }]`,
      ].join("\n"),
    );
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: "ignore" },
    );
  }, 60_000);

  afterAll(async () => {
    prometheus?.kill("SIGTERM");
    await beating?.stop();
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("passes promtool's check and its unit tests", async () => {
    const checked = await run("promtool", ["check", "rules", RULES]);
    expect(checked.stdout).toContain("SUCCESS: 12 rules found");
    const config = await run("promtool", ["check", "config", join(INFRA, "prometheus/prometheus.yml")]);
    expect(config.stdout).toContain("is valid prometheus config file syntax");
    const tested = await run("promtool", ["test", "rules", "nexus-rules.test.yml"], {
      cwd: join(INFRA, "prometheus"),
    });
    expect(tested.stdout).toContain("SUCCESS");
  });

  it("scrapes the monitor: the target is up, every documented series exists, the rules load and go pending", async () => {
    const targets = await eventually(
      async () => {
        const res = await fetch(`${api}/api/v1/targets`).catch(() => null);
        if (!res?.ok) return [];
        return ((await res.json()) as { data: { activeTargets: Array<{ health: string }> } }).data
          .activeTargets;
      },
      (t) => t.length > 0 && t.every((x) => x.health === "up"),
      30_000,
    );
    expect(targets).toHaveLength(1);
    for (const name of SERIES) {
      const result = await eventually(
        () => query(name),
        (r) => r.length > 0,
        10_000,
      );
      expect(result[0]?.metric.service).toBeDefined();
    }
    const up = await query('nexus_monitor_service_up{service="notifier"}');
    expect(up[0]?.value[1]).toBe("1");
    const rules = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: Array<{ name: string }> }> };
    };
    expect(rules.data.groups[0]?.rules.map((r) => r.name)).toContain("service-down");

    // Every query of the Grafana dashboard is valid PromQL here; those over the monitor's series have data.
    const dashboard = JSON.parse(await readFile(join(INFRA, "grafana/nexus-dashboard.json"), "utf8")) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    for (const panel of dashboard.panels)
      for (const { expr } of panel.targets) {
        const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
        expect({ panel: panel.title, status: res.status }).toEqual({ panel: panel.title, status: 200 });
      }
    expect((await query(dashboard.panels[0]?.targets[0]?.expr ?? "")).length).toBeGreaterThan(0);

    await beating.crash();
    const alerts = await eventually(
      async () =>
        (
          (await (await fetch(`${api}/api/v1/alerts`)).json()) as {
            data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
          }
        ).data.alerts,
      (a) => a.some((x) => x.labels.alertname === "service-down"),
      15_000,
    );
    expect(alerts.find((a) => a.labels.alertname === "service-down")).toMatchObject({
      state: "pending",
      labels: { service: "notifier", severity: "critical" },
    });
  });
});
