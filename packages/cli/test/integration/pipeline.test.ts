/** `nexus pipeline`, `nexus run` and `nexus approve` in-process against the real orchestrator, registry and drift-detector. */
import { mkdtemp, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  seedShop,
  startWorld,
  type World,
} from "../../../../services/orchestrator/test/integration/harness.js";
import { runNexus } from "./in-process.js";

describe("nexus pipeline / run / approve", () => {
  let world: World;
  let url: string;
  let dir: string;

  const nexus = (token: string, ...args: string[]) =>
    runNexus({ NEXUS_ORCHESTRATOR_URL: url, NEXUS_TOKEN: token }, args);

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    const app = await world.startOrchestrator();
    await app.app.listen({ port: 0, host: "127.0.0.1" });
    url = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
    dir = await mkdtemp("/tmp/nexus-pipeline-cli-");
  });
  afterAll(async () => {
    await world?.close();
  });

  const yaml = `name: shop-cli
namespace: shop
source: staging
target: production
pinnedPaths: [/db/host, /replicas]
steps:
  - type: approve
  - type: promote
`;

  it("applies a pipeline from YAML as versions, and refuses a bad one with exit 4 naming the field", async () => {
    await writeFile(`${dir}/p.yaml`, yaml);
    const first = await nexus(world.tokens.alice, "pipeline", "apply", "-f", `${dir}/p.yaml`);
    expect(first).toMatchObject({
      code: 0,
      out: "Saved pipeline shop-cli (version 1): shop staging → production.\n",
    });
    const second = await nexus(world.tokens.alice, "pipeline", "apply", "-f", `${dir}/p.yaml`);
    expect(second.out).toContain("(version 2)");
    await writeFile(`${dir}/bad.yaml`, yaml.replace("- type: approve", "- type: approve\n    approvals: 0"));
    const bad = await nexus(world.tokens.alice, "pipeline", "apply", "-f", `${dir}/bad.yaml`);
    expect(bad.code).toBe(4);
    expect(bad.err).toContain("steps[0].approvals");
    const listed = await nexus(world.tokens.alice, "pipeline", "list");
    expect(listed.out).toMatch(/shop-cli\s.*staging → production\s.*2\s.*approve, promote/);
    const history = await nexus(world.tokens.alice, "--json", "pipeline", "show", "shop-cli", "--history");
    expect(JSON.parse(history.out).items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  });

  it("starts a run, follows it to the approval, approves it as someone else, and follows it to the end", async () => {
    const started = await nexus(world.tokens.alice, "run", "start", "shop-cli", "--follow");
    expect(started.code).toBe(0);
    const id = /run ([0-9a-f-]{36})/.exec(started.out)?.[1] as string;
    expect(id).toBeDefined();
    expect(started.err).toContain(`waiting for approval: nexus approve ${id}`);
    expect(started.err).toMatch(/production revision \d+ would change:\nadd \/checkout = \{"enabled":true\}/);

    const own = await nexus(world.tokens.alice, "approve", id);
    expect(own.code).toBe(5);
    const approved = await nexus(world.tokens.bob, "approve", id, "-m", "ship it");
    expect(approved).toMatchObject({ code: 0, out: `Approved run ${id} of shop-cli.\n` });

    const followed = await nexus(world.tokens.alice, "run", "show", id, "--follow");
    expect(followed.code).toBe(0);
    expect(followed.err).toContain("run succeeded");
    const shown = await nexus(world.tokens.alice, "run", "show", id);
    expect(shown.out).toMatch(/✓ approve {2}approved by bob/);
    expect(shown.out).toMatch(/✓ promote {2}copied staging revision \d+ into production as revision \d+/);
    const listed = await nexus(world.tokens.alice, "--json", "run", "list", "--pipeline", "shop-cli");
    expect(JSON.parse(listed.out).items[0]).toMatchObject({ id, status: "succeeded", pipelineVersion: 2 });
  });

  it("rejects a run: the run stops and following it exits 1", async () => {
    const started = await nexus(world.tokens.alice, "--json", "run", "start", "shop-cli");
    const id = JSON.parse(started.out).id as string;
    await nexus(world.tokens.alice, "run", "show", id, "--follow");
    const rejected = await nexus(world.tokens.carol, "approve", id, "--reject", "-m", "not now");
    expect(rejected.out).toBe(`Rejected run ${id} of shop-cli.\n`);
    const followed = await nexus(world.tokens.alice, "run", "show", id, "--follow");
    expect(followed.code).toBe(1);
    expect(followed.err).toContain("rejected by carol: not now");
  });
});
