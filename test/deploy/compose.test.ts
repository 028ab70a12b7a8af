import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { connect } from "@nats-io/transport-node";
import { natsServerBinary } from "@nexus/test-fixtures";
import { Ajv } from "ajv";
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/service-process.js";
import { ROOT, readYaml, serviceNames } from "./deploy-files.js";

const run = promisify(execFile);

interface ComposeService {
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  image?: string;
  profiles?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown> | string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  command?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/**
 * There is no Docker engine (nor a Compose v2 plugin in Debian's packages; Debian's docker-compose
 * 1.29 predates the spec's top-level `name`) on the machines the tests run on, so the compose
 * file is checked against the Compose Specification's JSON schema (shipped by dclint, the Compose
 * linter, from npm) with ajv, and for what the schema cannot know: every service of the
 * repository is in it, every file it mounts exists, the profiles are complete.
 */
describe("docker-compose.yml", async () => {
  const compose = await readYaml<ComposeFile>("docker-compose.yml");
  const raw = await readYaml("docker-compose.yml");

  it("is valid against the Compose Specification's JSON schema", async () => {
    const require = createRequire(import.meta.url);
    const dclint = dirname(require.resolve("dclint/package.json", { paths: [ROOT] }));
    const schema = JSON.parse(await readFile(join(dclint, "schemas/compose.schema.json"), "utf8"));
    // Draft-07 (ajv's default dialect), named by its https URL, which ajv registers as http only.
    expect(schema.$schema).toMatch(/draft-07/);
    delete schema.$schema;
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const valid = validate(raw);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
    // The schema is strict enough to refuse what Compose refuses.
    expect(validate({ ...raw, services: { x: { image: "a", restart: 3 } } })).toBe(false);
    expect(validate({ ...raw, servicez: {} })).toBe(false);
  });

  it("runs every service of the repository from the one Dockerfile, logged in to NATS as itself", async () => {
    const names = await serviceNames();
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const name of names) {
      const svc = compose.services[name];
      expect(svc, `service ${name} in docker-compose.yml`).toBeDefined();
      expect(svc?.build?.args?.SERVICE).toBe(name);
      expect(svc?.build?.dockerfile).toBe("Dockerfile");
      expect(svc?.profiles ?? []).toEqual([]); // part of a plain `docker compose up`
      expect(svc?.environment?.NATS_USER).toBe(name);
      expect(svc?.environment?.NATS_PASSWORD).toMatch(/^\$\{NEXUS_NATS_[A-Z]+_PASSWORD:\?/);
      expect(svc?.environment?.OTEL_SERVICE_NAME).toBe(name);
      expect(svc?.environment?.NATS_URL).toBe("nats://nats:4222");
      expect(Object.keys(svc?.depends_on ?? {})).toEqual(
        expect.arrayContaining(["nats", "postgres", "redis"]),
      );
      expect(svc?.healthcheck?.test.join(" ")).toContain("/readyz");
    }
  });

  it("gives the NATS server a bcrypt hash for every user of the shipped auth config", async () => {
    const nats = compose.services.nats;
    expect(nats?.command).toContain("/etc/nats/nats-server.auth.conf");
    const conf = await readFile(join(ROOT, "infra/nats/nats-server.auth.conf"), "utf8");
    const referenced = [...conf.matchAll(/password:\s*\$([A-Z0-9_]+)/g)].map((m) => m[1]);
    expect(referenced.length).toBeGreaterThanOrEqual(6);
    for (const variable of referenced) {
      // Quoted for the server's parser: the hash contains `$`.
      expect(nats?.environment?.[variable as string], variable).toMatch(/^"\$\{[A-Z0-9_]+_HASH:\?.*\}"$/);
    }
    // Every service password the compose file asks for is one scripts/credentials.sh creates.
    const script = await readFile(join(ROOT, "scripts/credentials.sh"), "utf8");
    const loginList = script.match(/for login in ([A-Z ]+); do/)?.[1]?.split(" ") ?? [];
    for (const [name, svc] of Object.entries(compose.services)) {
      const login = svc.environment?.NATS_PASSWORD?.match(/NEXUS_NATS_([A-Z]+)_PASSWORD/)?.[1];
      if (login) expect(loginList, `${name}: ${login}`).toContain(login);
    }
  });

  it("starts the NATS service as composed (its command, config and environment) and lets each service log in", async () => {
    const nats = compose.services.nats as ComposeService;
    const binary = natsServerBinary();
    expect(binary, "nats-server (Debian package) is installed").toBeDefined();
    // The container's paths on this machine: the mounted config file, with the store directory
    // (the volume in the container) moved to a temporary one.
    const mounts = new Map(
      (nats.volumes ?? []).map((v) => v.split(":").slice(0, 2).reverse() as [string, string]),
    );
    const [executable, ...args] = nats.command ?? [];
    expect(executable).toBe("nats-server");
    const configPath = args[args.indexOf("-c") + 1] as string;
    const shipped = await readFile(join(ROOT, mounts.get(configPath) as string), "utf8");
    const storeDir = shipped.match(/store_dir: "([^"]+)"/)?.[1];
    expect([...mounts.keys()], "the JetStream store is a volume").toContain(storeDir);
    const dir = await mkdtemp(join(tmpdir(), "nexus-compose-nats-"));
    const config = join(dir, "nats.conf");
    await writeFile(config, shipped.replace(`"${storeDir}"`, JSON.stringify(join(dir, "js"))));
    // Compose's interpolation of the server's environment, with hashes of fresh passwords.
    const passwords = new Map<string, string>();
    const env: Record<string, string> = { PATH: process.env.PATH ?? "" };
    for (const [name, value] of Object.entries(nats.environment ?? {})) {
      env[name] = value.replace(/\$\{([A-Z0-9_]+)_HASH:\?[^}]*\}/, (_, login: string) => {
        const password = randomBytes(12).toString("hex");
        passwords.set(login, password);
        return bcrypt.hashSync(password, 4);
      });
    }
    const port = await freePort();
    const monitor = await freePort();
    const commandArgs = args.map((a) => (a === configPath ? config : a));
    const server = spawn(binary as string, [...commandArgs, "-p", String(port), "-m", String(monitor)], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    server.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    server.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    try {
      const deadline = Date.now() + 10_000;
      while (!output.includes("Server is ready")) {
        if (server.exitCode !== null || Date.now() > deadline)
          throw new Error(`nats-server did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(output).toContain(`Listening for client connections on 0.0.0.0:${port}`);
      const loggedIn: string[] = [];
      for (const [name, svc] of Object.entries(compose.services)) {
        const login = svc.environment?.NATS_PASSWORD?.match(/\$\{([A-Z0-9_]+):\?/)?.[1];
        if (!login) continue;
        const nc = await connect({
          servers: `nats://127.0.0.1:${port}`,
          user: svc.environment?.NATS_USER,
          pass: passwords.get(login),
        });
        await nc.flush();
        await nc.close();
        loggedIn.push(name);
      }
      expect(loggedIn.sort()).toEqual(await serviceNames());
      await expect(
        connect({
          servers: `nats://127.0.0.1:${port}`,
          user: "config-registry",
          pass: "wrong",
          reconnect: false,
        }),
      ).rejects.toThrow(/Authorization/i);
    } finally {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("has a tracing profile (collector → Jaeger) and a metrics profile (Prometheus + Grafana)", () => {
    const inProfile = (p: string) =>
      Object.entries(compose.services)
        .filter(([, s]) => s.profiles?.includes(p))
        .map(([n]) => n)
        .sort();
    expect(inProfile("tracing")).toEqual(["jaeger", "otel-collector"]);
    expect(inProfile("metrics")).toEqual(["grafana", "prometheus"]);
  });

  it("mounts only files that exist in the repository", () => {
    const mounts = Object.values(compose.services).flatMap((s) =>
      (s.volumes ?? []).filter((v) => v.startsWith("./")).map((v) => v.split(":")[0] as string),
    );
    expect(mounts.length).toBeGreaterThanOrEqual(5);
    for (const source of mounts) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });

  it("points the metrics profile's Prometheus at every service, with a config promtool accepts", async () => {
    const prom = await readYaml<{ scrape_configs: { static_configs: { targets: string[] }[] }[] }>(
      "infra/prometheus/prometheus.docker.yml",
    );
    const targets = prom.scrape_configs.flatMap((j) => j.static_configs.flatMap((c) => c.targets));
    for (const name of await serviceNames()) {
      const port = compose.services[name]?.environment?.PORT;
      expect(targets, name).toContain(`${name}:${port}`);
    }
    // promtool resolves rule_files relative to the config, as the container's mounts lay them out.
    const checked = await run("promtool", ["check", "config", "infra/prometheus/prometheus.docker.yml"], {
      cwd: ROOT,
    }).catch((err: { stdout: string; stderr: string }) => err);
    expect(`${checked.stdout}${checked.stderr}`).toMatch(/SUCCESS/);
    expect(`${checked.stdout}${checked.stderr}`).not.toMatch(/FAILED/);
  });

  it("sends the collector's traces to Jaeger over OTLP", async () => {
    const collector = await readYaml<{
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
    }>("infra/otel/collector.yaml");
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe("0.0.0.0:4318");
    const pipeline = collector.service.pipelines.traces;
    expect(pipeline.receivers).toEqual(["otlp"]);
    for (const exporter of pipeline.exporters) expect(collector.exporters[exporter]).toBeDefined();
    expect(collector.exporters[pipeline.exporters[0] as string]?.endpoint).toBe("jaeger:4317");
  });
});
