import { expect } from "vitest";
import { percentileOf } from "../../services/orchestrator/src/rollouts/rollout-fns.js";
import {
  eventually,
  type JsonBody,
  type World,
} from "../../services/orchestrator/test/integration/harness.js";

/**
 * A wave rollout of `shop` to production for the tests that read one (the CLI, the dashboard):
 * a pipeline promoting staging in two waves (50%, then 100% of instances), and two instances, one
 * inside the first wave (by its id's percentile) and one outside it, both on the revision before.
 * It is returned started and waiting in its first wave: the early instance applying, the late held.
 */
export interface TwoWaveRollout {
  /** The run's id, which is the rollout's. */
  id: string;
  early: string;
  late: string;
  /** The revision the instances run before, and the one the rollout brings. */
  holdRevision: number;
  targetRevision: number;
  /** GET /v1/rollouts/{id} as the orchestrator answers it now. */
  read(): Promise<JsonBody>;
  /** The early instance applies what production resolves to now; resolves once wave 2 is released. */
  applyFirstWave(): Promise<void>;
  /** The late instance applies it too (the rollout then completes); the revision it reported. */
  applySecondWave(): Promise<number>;
}

/** `name` names the pipeline and prefixes the instances' ids (each test its own). */
export async function startTwoWaveRollout(world: World, name: string): Promise<TwoWaveRollout> {
  const candidates = Array.from({ length: 40 }, (_, i) => `${name}-${i}`);
  const early = candidates.find((id) => percentileOf(id) < 50) as string;
  const late = candidates.find((id) => percentileOf(id) >= 50) as string;
  const before = await world.resolved("shop", "production");
  for (const id of [early, late]) await world.report("shop", "production", id, before);
  const created = await world.call("POST", "/v1/pipelines", {
    name,
    namespace: "shop",
    source: "staging",
    target: "production",
    pinnedPaths: ["/db/host", "/replicas"],
    steps: [
      {
        type: "promote",
        strategy: "waves",
        waves: [{ percent: 50 }, { percent: 100 }],
        pauseSeconds: 0,
        waveTimeoutSeconds: 120,
      },
    ],
  });
  expect(created.status).toBe(201);
  const started = await world.call("POST", `/v1/pipelines/${name}/runs`, {});
  expect(started.status).toBe(201);
  const id = started.body.id as string;
  const read = () => world.call("GET", `/v1/rollouts/${id}`).then((r) => r.body);
  const first = await eventually(read, (r) => r.releasedWaves === 1 && r.members?.length === 2, 20_000);
  expect(first.targetRevision).toBeGreaterThan(before.revision);
  const apply = async (instance: string) => {
    const now = await world.resolved("shop", "production");
    await world.report("shop", "production", instance, now);
    return now.revision;
  };
  return {
    id,
    early,
    late,
    holdRevision: before.revision,
    targetRevision: first.targetRevision as number,
    read,
    async applyFirstWave() {
      await apply(early);
      await eventually(read, (r) => r.releasedWaves === 2, 20_000);
    },
    applySecondWave: () => apply(late),
  };
}
