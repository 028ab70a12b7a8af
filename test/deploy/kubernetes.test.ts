import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { natsServerBinary } from "@nexus/test-fixtures";
import { Deployment, type IDeployment } from "kubernetes-models/apps/v1/Deployment";
import { type IStatefulSet, StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import {
  type IPodDisruptionBudget,
  PodDisruptionBudget,
} from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap, type IConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { kubernetesFiles } from "../../scripts/lib/kubernetes.js";
import { ROOT, readYaml, readYamlDocuments, serviceNames } from "./deploy-files.js";

const run = promisify(execFile);

type Doc = { apiVersion: string; kind: string; metadata: { name: string } };

/** The Kubernetes OpenAPI schema of each kind (kubernetes-models' validators, from npm). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "v1/Service": Service,
};

async function allManifests(): Promise<Doc[]> {
  const kustomization = await readYaml<{ resources: string[] }>("infra/kubernetes/kustomization.yaml");
  const docs: Doc[] = [];
  for (const file of kustomization.resources)
    docs.push(...((await readYamlDocuments(`infra/kubernetes/${file}`)) as Doc[]));
  return docs;
}

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

describe("infra/kubernetes", async () => {
  const docs = await allManifests();
  const ofKind = <T>(kind: string) => docs.filter((d) => d.kind === kind) as unknown as (T & Doc)[];

  it("is what `pnpm kubernetes` generates (run it after adding a service)", async () => {
    const files = await kubernetesFiles();
    for (const [path, content] of files) {
      expect(await readFile(join(ROOT, "infra/kubernetes", path), "utf8"), path).toBe(content);
    }
    const onDisk = await readdir(join(ROOT, "infra/kubernetes/services"));
    expect(onDisk.map((f) => `services/${f}`).sort()).toEqual(
      [...files.keys()].filter((k) => k.startsWith("services/")).sort(),
    );
  });

  it("is valid against the Kubernetes API schemas, and the validator refuses a broken manifest", () => {
    expect(docs.length).toBeGreaterThan(10);
    for (const doc of docs) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${doc.apiVersion} ${doc.kind} has a schema here`).toBeDefined();
      expect(
        () => new (Model as NonNullable<typeof Model>)(doc as never).validate(),
        `${doc.kind} ${doc.metadata.name}`,
      ).not.toThrow();
    }
    const deployment = ofKind<IDeployment>("Deployment")[0] as IDeployment;
    const broken = structuredClone(deployment);
    (broken.spec as { replicas: unknown }).replicas = "two";
    expect(() => new Deployment(broken).validate()).toThrow(/replicas/);
    const noPort = structuredClone(deployment);
    const httpGet = noPort.spec?.template.spec?.containers[0]?.readinessProbe?.httpGet as { port?: unknown };
    delete httpGet.port;
    expect(() => new Deployment(noPort).validate()).toThrow(/port/);
  });

  it("runs every service with two or more replicas, probes, resource requests and a disruption budget", async () => {
    const deployments = ofKind<IDeployment>("Deployment");
    const budgets = ofKind<IPodDisruptionBudget>("PodDisruptionBudget");
    const services = ofKind<{ spec: { selector: Record<string, string> } }>("Service");
    for (const name of await serviceNames()) {
      const d = deployments.find((x) => x.metadata?.name === name);
      expect(d, `Deployment ${name}`).toBeDefined();
      expect(d?.spec?.replicas ?? 1).toBeGreaterThanOrEqual(2);
      const pod = d?.spec?.template;
      const c = pod?.spec?.containers[0];
      expect(c?.livenessProbe?.httpGet?.path).toBe("/livez");
      expect(c?.readinessProbe?.httpGet?.path).toBe("/readyz");
      const portName = c?.readinessProbe?.httpGet?.port;
      expect(c?.ports?.map((p) => p.name)).toContain(portName);
      expect(c?.resources?.requests?.cpu).toBeTruthy();
      expect(c?.resources?.requests?.memory).toBeTruthy();
      expect(pod?.spec?.securityContext?.runAsNonRoot).toBe(true);
      const budget = budgets.find((b) => matches(b.spec?.selector?.matchLabels, pod?.metadata?.labels));
      expect(budget, `PodDisruptionBudget for ${name}`).toBeDefined();
      // A budget the replicas can satisfy while one pod is evicted.
      expect(Number(budget?.spec?.minAvailable ?? 0)).toBeLessThan(d?.spec?.replicas ?? 0);
      expect(
        services.some((s) => matches(s.spec.selector, pod?.metadata?.labels)),
        `Service ${name}`,
      ).toBe(true);
    }
  });

  it("runs NATS as three JetStream nodes and has the services create R3 streams", async () => {
    const nats = ofKind<IStatefulSet>("StatefulSet").find((s) => s.metadata?.name === "nats");
    expect(nats?.spec?.replicas).toBe(3);
    expect(nats?.spec?.volumeClaimTemplates?.length).toBe(1);
    const budget = ofKind<IPodDisruptionBudget>("PodDisruptionBudget").find(
      (b) => b.metadata?.name === "nats",
    );
    expect(budget?.spec?.maxUnavailable).toBe(1);
    const shared = ofKind<IConfigMap>("ConfigMap").find((c) => c.metadata?.name === "nexus-config");
    expect(shared?.data?.NATS_STREAM_REPLICAS).toBe("3");
    const conf = ofKind<IConfigMap>("ConfigMap").find((c) => c.metadata?.name === "nats-config")?.data?.[
      "nats.conf"
    ];
    expect(conf?.match(/nats-route:\/\//g)).toHaveLength(3);
  });

  it("has a NATS config nats-server accepts", async () => {
    const binary = natsServerBinary();
    expect(binary, "nats-server (Debian package) is installed").toBeDefined();
    const conf = ofKind<IConfigMap>("ConfigMap").find((c) => c.metadata?.name === "nats-config")?.data?.[
      "nats.conf"
    ];
    const dir = await mkdtemp(join(tmpdir(), "nexus-k8s-nats-"));
    try {
      const file = join(dir, "nats.conf");
      let text = (conf ?? "").replace('"/data/nats"', JSON.stringify(join(dir, "js")));
      // The pods run nats 2.10; Debian 12's nats-server is 2.9, which lacks only sync_interval.
      const version = (await run(binary as string, ["--version"])).stdout;
      if (/v2\.9\./.test(version)) text = text.replace(/^\s*sync_interval: always\n/m, "");
      await writeFile(file, text);
      const env = { POD_NAME: "nats-0", NEXUS_NATS_USER: "nexus", NEXUS_NATS_PASSWORD: "secret" };
      const ok = await run(binary as string, ["-c", file, "-t"], {
        env: { ...env, PATH: process.env.PATH },
      }).catch((err: { stdout: string; stderr: string }) => err);
      expect(`${ok.stdout}${ok.stderr}`).toMatch(/configuration file .* is valid/);
      // The check is real: a config without the user's variable fails.
      const bad = await run(binary as string, ["-c", file, "-t"], {
        env: { POD_NAME: "nats-0", PATH: process.env.PATH },
      }).then(
        () => "accepted",
        (err: { stderr: string }) => err.stderr,
      );
      expect(bad).not.toBe("accepted");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("takes every secret from the platform: no Secret objects, no literal credentials", () => {
    expect(docs.filter((d) => d.kind === "Secret")).toEqual([]);
    const containers = [...ofKind<IDeployment>("Deployment"), ...ofKind<IStatefulSet>("StatefulSet")].flatMap(
      (d) => d.spec?.template.spec?.containers ?? [],
    );
    for (const c of containers) {
      for (const e of c.env ?? []) {
        if (/PASSWORD|KEY|TOKEN|SECRET|DATABASE_URL|REDIS_URL/.test(e.name))
          expect(e.value, `${c.name} ${e.name}`).toBeUndefined();
      }
      const secretSources = (c.envFrom ?? []).map((f) => f.secretRef?.name).filter(Boolean);
      if (c.name !== "nats") expect(secretSources).toContain("nexus-shared");
    }
    const config = ofKind<IConfigMap>("ConfigMap").flatMap((c) => Object.keys(c.data ?? {}));
    expect(config.filter((k) => /PASSWORD|KEY|TOKEN|SECRET|DATABASE_URL/.test(k))).toEqual([]);
  });
});
