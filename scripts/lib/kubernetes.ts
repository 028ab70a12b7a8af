/**
 * `pnpm kubernetes`: writes infra/kubernetes/ — a scaled deployment of Nexus for `kubectl apply -k`:
 * a three-node NATS cluster (JetStream, streams with three replicas) and every service under
 * services/ with two replicas, probes, resource requests and a disruption budget. Postgres, Redis
 * and every secret come from the platform (see infra/kubernetes/README.md).
 *
 * The manifests are built from kubernetes-models' typed classes (tsc refuses an unknown field)
 * and each is checked against the Kubernetes OpenAPI schema (`validate()`) before it is written.
 * A new service needs no edit here: it is found under services/; only a service with settings
 * of its own gets an entry in SERVICE_SETTINGS. `--check` fails when the files are not current.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";
import { stringify } from "yaml";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OUT = join(ROOT, "infra/kubernetes");
const NAMESPACE = "nexus";
/** Every service listens on the same port in its own pod. */
const HTTP_PORT = 8080;
const NATS_REPLICAS = 3;
const SERVICE_REPLICAS = 2;

/** Settings a service has beyond the shared ones (not secrets: those are the platform's). */
const SERVICE_SETTINGS: Record<string, Record<string, string>> = {
  monitor: {
    DRIFT_DETECTOR_URL: `http://drift-detector:${HTTP_PORT}`,
    NOTIFIER_URL: `http://notifier:${HTTP_PORT}`,
    REGISTRY_URL: `http://config-registry:${HTTP_PORT}`,
    ORCHESTRATOR_URL: `http://orchestrator:${HTTP_PORT}`,
  },
  orchestrator: {
    REGISTRY_URL: `http://config-registry:${HTTP_PORT}`,
    DRIFT_DETECTOR_URL: `http://drift-detector:${HTTP_PORT}`,
    MONITOR_URL: `http://monitor:${HTTP_PORT}`,
    // backup-drill jobs (with ORCHESTRATOR_BACKUP_TOKEN from the Secret nexus-orchestrator)
    BACKUP_URL: `http://backup:${HTTP_PORT}`,
  },
  // Bundles in a replicated JetStream object store: no volume shared between the replicas.
  backup: {
    BACKUP_STORAGE: "nats",
    BACKUP_NATS_REPLICAS: String(NATS_REPLICAS),
    REGISTRY_URL: `http://config-registry:${HTTP_PORT}`,
  },
};

type Manifest = { toJSON(): unknown; validate(): void };

/** nats.conf for the StatefulSet's pods nats-0, nats-1, nats-2 (infra/nats/nats-cluster.conf's model). */
const NATS_CONF = `# The infra/nats/nats-cluster.conf model for Kubernetes: one config for the three pods of the
# StatefulSet, which find each other through the headless Service nats-cluster.
server_name: $POD_NAME
listen: 0.0.0.0:4222
http: 0.0.0.0:8222
lame_duck_duration: 30s

authorization {
  users: [
    { user: $NEXUS_NATS_USER, password: $NEXUS_NATS_PASSWORD }
  ]
}

jetstream {
  store_dir: "/data/nats"
  max_memory_store: 1GB
  max_file_store: 20GB
  sync_interval: always
}

cluster {
  name: nexus
  listen: 0.0.0.0:6222
  routes: [
${Array.from({ length: NATS_REPLICAS }, (_, i) => `    nats-route://nats-${i}.nats-cluster.${NAMESPACE}.svc.cluster.local:6222`).join("\n")}
  ]
}
`;

const labelsOf = (app: string) => ({ "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "nexus" });

const secretEnv = (name: string, secret: string, key: string): IEnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});

function natsManifests(): Manifest[] {
  const labels = labelsOf("nats");
  return [
    new ConfigMap({
      metadata: { name: "nats-config", namespace: NAMESPACE, labels },
      data: { "nats.conf": NATS_CONF },
    }),
    // Clients: any node.
    new Service({
      metadata: { name: "nats", namespace: NAMESPACE, labels },
      spec: { selector: labels, ports: [{ name: "client", port: 4222, targetPort: "client" }] },
    }),
    // Routes between the nodes: stable names nats-N.nats-cluster, known before they are ready.
    new Service({
      metadata: { name: "nats-cluster", namespace: NAMESPACE, labels },
      spec: {
        clusterIP: "None",
        publishNotReadyAddresses: true,
        selector: labels,
        ports: [
          { name: "client", port: 4222, targetPort: "client" },
          { name: "cluster", port: 6222, targetPort: "cluster" },
          { name: "monitor", port: 8222, targetPort: "monitor" },
        ],
      },
    }),
    new StatefulSet({
      metadata: { name: "nats", namespace: NAMESPACE, labels },
      spec: {
        serviceName: "nats-cluster",
        replicas: NATS_REPLICAS,
        podManagementPolicy: "Parallel",
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 60,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
            // One node per machine: losing a machine loses one replica of each stream.
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "DoNotSchedule",
                labelSelector: { matchLabels: labels },
              },
            ],
            containers: [
              {
                name: "nats",
                image: "nats:2.10-alpine",
                args: ["-c", "/etc/nats/nats.conf"],
                env: [
                  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                  secretEnv("NEXUS_NATS_USER", "nexus-nats", "user"),
                  secretEnv("NEXUS_NATS_PASSWORD", "nexus-nats", "password"),
                ],
                ports: [
                  { name: "client", containerPort: 4222 },
                  { name: "cluster", containerPort: 6222 },
                  { name: "monitor", containerPort: 8222 },
                ],
                resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } },
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                startupProbe: {
                  httpGet: { path: "/healthz", port: "monitor" },
                  periodSeconds: 5,
                  failureThreshold: 60,
                },
                livenessProbe: {
                  httpGet: { path: "/healthz?js-enabled-only=true", port: "monitor" },
                  periodSeconds: 30,
                },
                readinessProbe: { httpGet: { path: "/healthz", port: "monitor" }, periodSeconds: 10 },
                volumeMounts: [
                  { name: "config", mountPath: "/etc/nats" },
                  { name: "data", mountPath: "/data" },
                ],
              },
            ],
            volumes: [{ name: "config", configMap: { name: "nats-config" } }],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data" },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } } },
          },
        ],
      },
    }),
    // R3 streams keep working with two of three nodes: never take two down on purpose.
    new PodDisruptionBudget({
      metadata: { name: "nats", namespace: NAMESPACE, labels },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    }),
  ];
}

function sharedConfig(): Manifest {
  return new ConfigMap({
    metadata: { name: "nexus-config", namespace: NAMESPACE, labels: labelsOf("nexus") },
    data: {
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      HOST: "0.0.0.0",
      PORT: String(HTTP_PORT),
      NATS_URL: "nats://nats:4222",
      NATS_STREAM_REPLICAS: String(NATS_REPLICAS),
      // Tracing: set OTEL_EXPORTER_OTLP_ENDPOINT (your collector's OTLP/HTTP address) to turn it on.
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    },
  });
}

async function serviceManifests(service: string): Promise<Manifest[]> {
  const pkg = JSON.parse(await readFile(join(ROOT, "services", service, "package.json"), "utf8")) as {
    version: string;
  };
  const labels = labelsOf(service);
  const settings = SERVICE_SETTINGS[service] ?? {};
  const probe = (path: string) => ({ httpGet: { path, port: "http" } });
  return [
    new Deployment({
      metadata: { name: service, namespace: NAMESPACE, labels },
      spec: {
        replicas: SERVICE_REPLICAS,
        selector: { matchLabels: labels },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels },
          spec: {
            // Longer than SHUTDOWN_GRACE_MS (10 s): in-flight work and the outbox finish first.
            terminationGracePeriodSeconds: 30,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: labels },
              },
            ],
            containers: [
              {
                name: service,
                image: `nexus/${service}:${pkg.version}`,
                ports: [{ name: "http", containerPort: HTTP_PORT }],
                envFrom: [
                  { configMapRef: { name: "nexus-config" } },
                  // DATABASE_URL, REDIS_URL, AUTH_TOKEN_KEY: the platform's, shared by all.
                  { secretRef: { name: "nexus-shared" } },
                  // This service's own secrets (keys, tokens), if it has any.
                  { secretRef: { name: `nexus-${service}`, optional: true } },
                ],
                env: [
                  { name: "OTEL_SERVICE_NAME", value: service },
                  // The pod's name: heartbeats and traces tell the replicas apart.
                  { name: "INSTANCE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                  secretEnv("NATS_USER", "nexus-nats", "user"),
                  secretEnv("NATS_PASSWORD", "nexus-nats", "password"),
                  ...Object.entries(settings).map(([name, value]) => ({ name, value })),
                ],
                resources: { requests: { cpu: "100m", memory: "192Mi" }, limits: { memory: "512Mi" } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"] },
                },
                // Migrations run at start: allow up to two minutes before liveness counts.
                startupProbe: { ...probe("/livez"), periodSeconds: 2, failureThreshold: 60 },
                livenessProbe: { ...probe("/livez"), periodSeconds: 10, failureThreshold: 3 },
                readinessProbe: { ...probe("/readyz"), periodSeconds: 5, failureThreshold: 2 },
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: {} }],
          },
        },
      },
    }),
    new Service({
      metadata: { name: service, namespace: NAMESPACE, labels },
      spec: { selector: labels, ports: [{ name: "http", port: HTTP_PORT, targetPort: "http" }] },
    }),
    new PodDisruptionBudget({
      metadata: { name: service, namespace: NAMESPACE, labels },
      spec: { minAvailable: 1, selector: { matchLabels: labels } },
    }),
  ];
}

const HEADER =
  "# Generated by `pnpm kubernetes` (scripts/lib/kubernetes.ts): edit the generator, not this file.\n";

function toYaml(manifests: Manifest[]): string {
  for (const m of manifests) m.validate();
  return HEADER + manifests.map((m) => stringify(m.toJSON(), { lineWidth: 0 })).join("---\n");
}

async function serviceNames(): Promise<string[]> {
  const entries = await readdir(join(ROOT, "services"), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(ROOT, "services", e.name, "src/main.ts")))
    .map((e) => e.name)
    .sort();
}

/** Every generated file: path under infra/kubernetes → content. */
export async function kubernetesFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  files.set(
    "namespace.yaml",
    toYaml([new Namespace({ metadata: { name: NAMESPACE, labels: labelsOf("nexus") } })]),
  );
  files.set("nats.yaml", toYaml(natsManifests()));
  files.set("config.yaml", toYaml([sharedConfig()]));
  const services = await serviceNames();
  for (const s of services) files.set(`services/${s}.yaml`, toYaml(await serviceManifests(s)));
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    namespace: NAMESPACE,
    resources: [...files.keys()],
  };
  files.set("kustomization.yaml", HEADER + stringify(kustomization));
  return files;
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const files = await kubernetesFiles();
  if (check) {
    const stale: string[] = [];
    for (const [path, content] of files) {
      const current = await readFile(join(OUT, path), "utf8").catch(() => "");
      if (current !== content) stale.push(path);
    }
    const existing = existsSync(join(OUT, "services")) ? await readdir(join(OUT, "services")) : [];
    for (const f of existing) if (!files.has(`services/${f}`)) stale.push(`services/${f} (no such service)`);
    if (stale.length > 0) {
      console.error(`infra/kubernetes is out of date (${stale.join(", ")}): run pnpm kubernetes`);
      process.exitCode = 1;
    } else console.log("infra/kubernetes is up to date.");
    return;
  }
  await rm(join(OUT, "services"), { recursive: true, force: true });
  await mkdir(join(OUT, "services"), { recursive: true });
  for (const [path, content] of files) {
    await writeFile(join(OUT, path), content);
    console.log(`wrote ${relative(ROOT, join(OUT, path))}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
