import { fileURLToPath } from "node:url";
import {
  AUTH_INTROSPECT_COMMAND,
  AUTH_TOKEN_EXPIRIES_COMMAND,
  AuthIntrospectCommand,
  AuthTokenExpiriesCommand,
  CONFIG_GET_COMMAND,
  CONFIG_SET_COMMAND,
  ConfigGetCommand,
  ConfigGetReply,
  ConfigSetCommand,
  configGetSubject,
  GIT_RESYNC_COMMAND,
  GitResyncCommand,
  POLICY_CHECK_COMMAND,
  PolicyCheckCommand,
  PolicyCheckReply,
  ROLLOUT_GATE_COMMAND,
  ROLLOUT_TARGET_COMMAND,
  RolloutGateCommand,
  RolloutTargetCommand,
  RolloutTargetReply,
  rolloutTargetSubject,
} from "@nexus/contracts";
import { COMMAND_MAX_BYTES, DOCUMENT_COMMAND_MAX_BYTES } from "@nexus/kit";
import type { TestBus } from "@nexus/test-fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { startBackupHarness } from "../../services/backup/test/integration/harness.js";
import {
  call,
  REGISTRY_SCHEMA,
  startRegistry,
} from "../../services/config-registry/test/integration/harness.js";
import {
  DETECTOR_SCHEMA,
  startWorld as startDetectorWorld,
} from "../../services/drift-detector/test/integration/harness.js";
import { MONITOR_SCHEMA, startMonitor } from "../../services/monitor/test/integration/harness.js";
import { NOTIFIER_SCHEMA, startNotifier } from "../../services/notifier/test/integration/harness.js";
import {
  ORCHESTRATOR_SCHEMA,
  startWorld as startOrchestratorWorld,
} from "../../services/orchestrator/test/integration/harness.js";
import { deadLetterReasons, hostileMessages, publishHostile, settleBus } from "../support/bus-fuzz.js";
import { type CommandSpec, fuzzCommands } from "../support/command-fuzz.js";
import { type FuzzResult, type FuzzTarget, fuzzRoutes, stateDigest } from "../support/route-fuzz.js";
import { recordFigure } from "./figures.js";

/**
 * Every operation of every service's generated OpenAPI document, sent hostile requests
 * (test/support/route-fuzz.ts) as an admin: never a 5xx, a 4xx in the error shape with the
 * headers every answer carries, and no table of the service changed.
 */
const openapi = (service: string) =>
  fileURLToPath(new URL(`../../services/${service}/openapi.json`, import.meta.url));

/** CI sends a seeded sample per operation; FAULTS_LONG=1 sends every generated request. */
const LONG = process.env.FAULTS_LONG === "1";
const SEED = Number(process.env.FAULTS_SEED ?? 20261206);

const totals = { services: 0, operations: 0, requests: 0, failures: 0, fivexx: 0, ms: 0 };

const busTotals = { services: 0, messages: 0, deadLetters: 0, durables: 0, reasons: new Set<string>() };

/**
 * Hostile messages on every event subject of the service's bus prefix: every durable settles them
 * (dead-lettered, or acked as nothing to do), no table changes, the service stays ready.
 */
async function checkBus(target: FuzzTarget, bus: Pick<TestBus, "nc" | "prefix" | "streams">): Promise<void> {
  await settleBus(bus.nc, bus.streams);
  const before = await stateDigest(target.state);
  const dlqBefore = (await settleBus(bus.nc, bus.streams)).deadLetters;
  const messages = hostileMessages(bus.prefix);
  await publishHostile(bus.nc, messages);
  const settled = await settleBus(bus.nc, bus.streams, 90_000);
  const after = await stateDigest(target.state);
  expect([...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k)).toEqual([]);
  const ready = await target.inject({ method: "GET", url: "/readyz", headers: {} });
  expect(ready.statusCode).toBe(200);
  expect(settled.durables).toBeGreaterThan(0);
  expect(settled.deadLetters).toBeGreaterThan(dlqBefore);
  busTotals.services += 1;
  busTotals.messages += messages.length;
  busTotals.deadLetters += settled.deadLetters - dlqBefore;
  busTotals.durables += settled.durables;
  for (const r of Object.keys(await deadLetterReasons(bus.nc, bus.streams.dlq))) busTotals.reasons.add(r);
}

const commandTotals = { subjects: 0, requests: 0, failures: 0, codes: new Set<string>() };

/**
 * Hostile requests on the service's command subjects: each answered 4xx with a code and the
 * failing field, a good request still answered after each subject, no table changed.
 */
async function checkCommands(
  target: FuzzTarget,
  bus: Pick<TestBus, "nc" | "prefix">,
  specs: CommandSpec[],
  probe: () => Promise<boolean>,
): Promise<void> {
  expect(await probe()).toBe(true);
  // The set-up's writes leave the outbox as the relay publishes them: wait until it has.
  await settled(target.state);
  const before = await stateDigest(target.state);
  const result = await fuzzCommands({
    nc: bus.nc,
    prefix: bus.prefix,
    specs,
    probe,
    perCommand: LONG ? undefined : 8,
    seed: SEED,
  });
  const after = await stateDigest(target.state);
  expect(result.failures).toEqual([]);
  expect([...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k)).toEqual([]);
  commandTotals.subjects += specs.length;
  commandTotals.requests += result.requests;
  commandTotals.failures += result.failures.length;
  for (const code of Object.keys(result.byCode)) commandTotals.codes.add(code);
}

async function check(target: FuzzTarget): Promise<FuzzResult> {
  const started = Date.now();
  const result = await fuzzRoutes({ perOperation: LONG ? undefined : 10, seed: SEED, ...target });
  totals.ms += Date.now() - started;
  totals.services += 1;
  totals.operations += result.operations;
  totals.requests += result.requests;
  totals.failures += result.failures.length;
  totals.fivexx += result.byStatus["5xx"] ?? 0;
  return result;
}

describe("bad input on every HTTP route of every service", () => {
  afterAll(async () => {
    if (totals.services === 0) return;
    await recordFigure({
      fault: `generated bad input on every HTTP route (${totals.services} services, ${totals.operations} operations)`,
      outcome: "4xx in the error shape with the usual headers, no table changed",
      figure: `${totals.requests} requests${LONG ? "" : " (sample; FAULTS_LONG=1: all)"} in ${(totals.ms / 1000).toFixed(0)} s: ${totals.fivexx} 5xx, ${totals.failures} failures`,
    });
    if (commandTotals.subjects > 0)
      await recordFigure({
        fault: `malformed requests on every command subject (${commandTotals.subjects} request/reply commands)`,
        outcome:
          "each answered 4xx with code and failing field, good requests answered after, no table changed",
        figure: `${commandTotals.requests} requests${LONG ? "" : " (sample; FAULTS_LONG=1: all)"}: ${commandTotals.failures} failures (${[...commandTotals.codes].sort().join(", ")})`,
      });
    if (busTotals.services === 0) return;
    await recordFigure({
      fault: `malformed messages on every event subject (${busTotals.services} services' buses, ${busTotals.durables} durables)`,
      outcome: "each dead-lettered or acked, no table changed, services ready",
      figure: `${busTotals.messages} messages, ${busTotals.deadLetters} dead letters (${[...busTotals.reasons].sort().join(", ")})`,
    });
  });

  it("config-registry", async () => {
    const h = await startRegistry();
    try {
      const target: FuzzTarget = {
        service: "config-registry",
        openapiFile: openapi("config-registry"),
        inject: (r) => h.registry.app.inject(r as never),
        token: h.adminToken,
        // api_tokens: the admin token's last-used stamp moves with every request.
        state: [{ pool: h.db.pool, schema: REGISTRY_SCHEMA, ignore: ["api_tokens"] }],
      };
      expect((await check(target)).failures).toEqual([]);
      await checkBus(target, h.nats);
      await call(h, "POST", "/v1/namespaces", { name: "fuzz-ns" });
      await call(h, "PUT", "/v1/namespaces/fuzz-ns/layers/base", { pool: 1 });
      const read = { schemaVersion: 1, namespace: "fuzz-ns", environment: "staging" } as const;
      await checkCommands(target, h.nats, registryCommands(read), async () => {
        const reply = await h.nats.bus.requestCommand(configGetSubject(read), read, ConfigGetReply);
        return reply.ok;
      });
    } finally {
      await h.close();
    }
  }, 180_000);

  it("notifier", async () => {
    const h = await startNotifier();
    try {
      const target: FuzzTarget = {
        service: "notifier",
        openapiFile: openapi("notifier"),
        inject: (r) => h.app.app.inject(r as never),
        token: h.adminToken,
        state: [{ pool: h.db.pool, schema: NOTIFIER_SCHEMA }],
      };
      expect((await check(target)).failures).toEqual([]);
      await checkBus(target, h.nats);
    } finally {
      await h.close();
    }
  }, 180_000);

  it("drift-detector", async () => {
    const w = await startDetectorWorld();
    try {
      const target: FuzzTarget = {
        service: "drift-detector",
        openapiFile: openapi("drift-detector"),
        inject: (r) => w.detector.app.app.inject(r as never),
        token: w.adminToken,
        state: [{ pool: w.db.pool, schema: DETECTOR_SCHEMA }],
      };
      expect((await check(target)).failures).toEqual([]);
      await checkBus(target, w.registry.nats);
      const policyCheck = { schemaVersion: 1, namespace: "fuzz-ns", environment: "staging", document: {} };
      const spec: CommandSpec = {
        root: POLICY_CHECK_COMMAND,
        target: [],
        valid: policyCheck,
        request: PolicyCheckCommand,
        maxBytes: DOCUMENT_COMMAND_MAX_BYTES,
      };
      await checkCommands(target, w.registry.nats, [spec], async () => {
        const reply = await w.registry.nats.bus.requestCommand(
          POLICY_CHECK_COMMAND,
          policyCheck,
          PolicyCheckReply,
        );
        return reply.ok;
      });
    } finally {
      await w.close();
    }
  }, 180_000);

  it("orchestrator", async () => {
    const w = await startOrchestratorWorld();
    try {
      const app = await w.startOrchestrator();
      const target: FuzzTarget = {
        service: "orchestrator",
        openapiFile: openapi("orchestrator"),
        inject: (r) => app.app.inject(r as never),
        token: await w.issuer.token(["admin"], { subject: "fuzz-admin" }),
        state: [{ pool: w.db.pool, schema: ORCHESTRATOR_SCHEMA }],
      };
      expect((await check(target)).failures).toEqual([]);
      await checkBus(target, w.registry.nats);
      const ask = {
        schemaVersion: 1,
        namespace: "fuzz-ns",
        environment: "staging",
        service: "fuzz",
        instanceId: "fuzz-1",
        labels: { zone: "a" },
        revision: 1,
      } as const;
      const spec: CommandSpec = {
        root: ROLLOUT_TARGET_COMMAND,
        target: ["environment", "namespace"],
        valid: ask,
        request: RolloutTargetCommand,
        maxBytes: COMMAND_MAX_BYTES,
      };
      await checkCommands(target, w.registry.nats, [spec], async () => {
        const reply = await w.registry.nats.bus.requestCommand(
          rolloutTargetSubject(ask),
          ask,
          RolloutTargetReply,
        );
        return reply.ok;
      });
    } finally {
      await w.close();
    }
  }, 180_000);

  it("monitor", async () => {
    const h = await startMonitor();
    try {
      // The lease holder's first rule evaluations change tables on their own (a default rule's
      // alert and its event): wait until they have, so any later change is a request's doing.
      await settled([{ pool: h.db.pool, schema: MONITOR_SCHEMA }]);
      const target: FuzzTarget = {
        service: "monitor",
        openapiFile: openapi("monitor"),
        inject: (r) => h.app.app.inject(r as never),
        token: h.adminToken,
        state: [{ pool: h.db.pool, schema: MONITOR_SCHEMA }],
        streaming: ["/v1/dashboard/events"],
        // Run without a registry or orchestrator to relay to: a valid relay request gets their 503.
        absentDependencies: ["registry_not_configured", "orchestrator_not_configured"],
      };
      expect((await check(target)).failures).toEqual([]);
      await checkBus(target, h.nats);
    } finally {
      await h.close();
    }
  }, 180_000);

  it("backup", async () => {
    const h = await startBackupHarness();
    try {
      const app = await h.build();
      const target: FuzzTarget = {
        service: "backup",
        openapiFile: openapi("backup"),
        inject: (r) => app.app.inject(r as never),
        token: h.adminToken,
        state: [{ pool: h.pool, schema: "backup" }],
      };
      expect((await check(target)).failures).toEqual([]);
    } finally {
      await h.close();
    }
  }, 180_000);
});

/** The registry's request/reply commands, each with a valid request naming `read`'s target. */
function registryCommands(read: { namespace: string; environment: string }): CommandSpec[] {
  return [
    {
      root: CONFIG_GET_COMMAND,
      target: ["environment", "namespace"],
      // With its optional revision, so that field is fuzzed too.
      valid: { schemaVersion: 1, ...read, revision: 1 },
      request: ConfigGetCommand,
      maxBytes: COMMAND_MAX_BYTES,
    },
    {
      root: CONFIG_SET_COMMAND,
      target: ["layer", "namespace"],
      valid: {
        schemaVersion: 1,
        namespace: read.namespace,
        layer: "staging",
        content: { pool: 2 },
        author: "fuzz",
      },
      request: ConfigSetCommand,
      maxBytes: DOCUMENT_COMMAND_MAX_BYTES,
    },
    {
      root: ROLLOUT_GATE_COMMAND,
      target: ["environment", "namespace"],
      // Closing a gate that is not open: valid, and changes nothing.
      valid: { schemaVersion: 1, ...read, runId: "6f0c1b9e-2a47-4d8e-9b3a-5c1d2e3f4a5b", open: false },
      request: RolloutGateCommand,
      maxBytes: COMMAND_MAX_BYTES,
    },
    {
      root: AUTH_INTROSPECT_COMMAND,
      target: [],
      valid: { schemaVersion: 1, tokenId: "0123456789abcdef", digest: "a".repeat(64) },
      request: AuthIntrospectCommand,
      maxBytes: COMMAND_MAX_BYTES,
    },
    {
      root: AUTH_TOKEN_EXPIRIES_COMMAND,
      target: [],
      valid: { schemaVersion: 1, withinDays: 7 },
      request: AuthTokenExpiriesCommand,
      maxBytes: COMMAND_MAX_BYTES,
    },
    {
      root: GIT_RESYNC_COMMAND,
      target: ["source"],
      // Served on `<root>.*`: NATS itself has no responder for another token count.
      exactTokens: true,
      valid: { schemaVersion: 1, source: "fuzz-source", requestedBy: "fuzz" },
      request: GitResyncCommand,
      maxBytes: COMMAND_MAX_BYTES,
    },
  ];
}

/** Resolves once the tables' digest stayed the same for a second (at most 20 s). */
async function settled(state: FuzzTarget["state"]): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = JSON.stringify([...(await stateDigest(state))]);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = JSON.stringify([...(await stateDigest(state))]);
    if (now === last || Date.now() > deadline) return;
    last = now;
  }
}
