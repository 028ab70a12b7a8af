/**
 * The drift-detector sees a process served by `nexus agent` as an instance: current after a
 * change, and a `rejected` finding with the agent's reason when validation refuses one. The
 * registry and the detector are the real ones (startWorld), the agent reads over NATS only.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../../services/config-registry/test/integration/harness.js";
import {
  eventually,
  type JsonBody,
  startWorld,
  type World,
} from "../../../../services/drift-detector/test/integration/harness.js";
import { tempDir } from "../../../client/test/integration/support.js";
import { readText, startAgent } from "./agent-support.js";

describe("the drift-detector and an agent's instance", () => {
  let w: World;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const resolved = async () =>
    (await call(w.registry, "GET", "/v1/namespaces/fleet/environments/production/resolved")).body as {
      revision: number;
      hash: string;
    };
  const instance = async () => {
    const res = await w.call("GET", "/v1/namespaces/fleet/environments/production/instances");
    return (res.body?.items as JsonBody[] | undefined)?.find((i) => i.instanceId === "agent-1");
  };

  beforeAll(async () => {
    [w, dir] = await Promise.all([startWorld({ quietMs: 200 }), tempDir()]);
    expect((await call(w.registry, "POST", "/v1/namespaces", { name: "fleet" })).status).toBe(201);
    await call(w.registry, "PUT", "/v1/namespaces/fleet/layers/production", { mode: "v1" });
    await writeFile(
      join(dir.path, "validate.sh"),
      'if grep -q "broken" "$1"; then echo "no broken" >&2; exit 1; fi\n',
    );
  });
  afterAll(async () => {
    await dir?.remove();
    await w?.close();
  });

  it("lists the agent's instance at the head, then raises rejected with the validation's reason", async () => {
    const file = join(dir.path, "fleet.json");
    const agent = startAgent(
      `service: fleet-app
instanceId: agent-1
nats:
  servers: ${TEST_NATS_URL}
subjectPrefix: ${w.registry.nats.prefix}
heartbeatSeconds: 1
sources:
  - namespace: fleet
    environment: production
    files:
      - { path: ${file}, format: json, validate: "sh ${join(dir.path, "validate.sh")} {file}" }
`,
      undefined,
    );
    try {
      await call(w.registry, "PUT", "/v1/namespaces/fleet/layers/production", { mode: "v2" });
      const head = await resolved();
      const current = await eventually(instance, (i) => i?.revision === head.revision);
      expect(current).toMatchObject({ service: "fleet-app", hash: head.hash });
      expect(JSON.parse(await readText(file)).mode).toBe("v2");

      await call(w.registry, "PUT", "/v1/namespaces/fleet/layers/production", { mode: "broken" });
      const findings = await eventually(
        async () => {
          const res = await w.call("GET", "/v1/findings?namespace=fleet&status=active");
          return (res.body.items as JsonBody[]).filter((f) => f.instanceIds.includes("agent-1"));
        },
        (f) => f.some((x) => x.kind === "rejected"),
      );
      const rejected = findings.find((f) => f.kind === "rejected");
      expect(rejected.reason).toMatch(/^validate: .*no broken/);
      expect(rejected.actual).toEqual({ revision: head.revision, hash: head.hash });
      expect(JSON.parse(await readText(file)).mode).toBe("v2");
    } finally {
      expect(await agent.stop()).toBe(0);
    }
  });
});
