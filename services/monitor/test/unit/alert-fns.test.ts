import { describe, expect, it } from "vitest";
import { evaluateRules, planTransitions, type Snapshot } from "../../src/alerts/alert-fns.js";
import type { AlertState } from "../../src/alerts/alert-types.js";
import type { BackupStatus } from "../../src/backups/backup-types.js";
import { summarize } from "../../src/health/health-fns.js";
import { defaultRules, durationMs, findRuleSetProblem, globMatches } from "../../src/rules/rule-fns.js";
import { AlertRule } from "../../src/rules/rule-types.js";
import { heartbeat, NOW } from "./heartbeat-fixture.js";

const rule = (r: unknown) => AlertRule.parse(r);
const health = (records: Parameters<typeof summarize>[0]) =>
  summarize(records, NOW, { missedHeartbeats: 3, expectedServices: ["notifier"], judgeAbsentAfter: 0 });

describe("rules", () => {
  it("parse durations and globs", () => {
    expect(durationMs("5m")).toBe(300_000);
    expect(durationMs("250ms")).toBe(250);
    expect(globMatches("drift-*", "drift-detector")).toBe(true);
    expect(globMatches("drift-*", "notifier")).toBe(false);
    expect(globMatches("a.b", "axb")).toBe(false);
  });
  it("refuse two rules of the same name, naming the second", () => {
    const rules = [rule({ name: "x", kind: "service_down" }), rule({ name: "x", kind: "instance_down" })];
    expect(findRuleSetProblem(rules)).toEqual({
      message: expect.stringContaining('"x"'),
      field: "rules.1.name",
    });
    expect(findRuleSetProblem(defaultRules())).toBeNull();
  });
  it("refuse a threshold rule without its threshold", () => {
    expect(AlertRule.safeParse({ name: "x", kind: "outbox_backlog" }).success).toBe(false);
  });
});

describe("conditions", () => {
  const records = [
    {
      service: "notifier",
      instanceId: "a-1",
      lastSeenAt: NOW,
      heartbeat: heartbeat({
        status: "degraded",
        dependencies: [{ name: "redis", critical: false, status: "down", latencyMs: 1000, error: "timeout" }],
        gauges: {
          outboxBacklog: 50,
          consumerPending: 7,
          consumerAckPending: 5,
          consumerRedelivered: 0,
          deadLetters: 2,
        },
      }),
    },
    {
      service: "notifier",
      instanceId: "a-2",
      lastSeenAt: NOW - 60_000,
      heartbeat: heartbeat({ instanceId: "a-2" }),
    },
  ];
  const snap: Snapshot = {
    health: health(records),
    findings: [],
    backups: [],
    pipelines: [],
    tokens: null,
    traffic: [],
    certificates: new Map(),
    now: NOW,
  };

  it("name each subject in a stable fingerprint", () => {
    const conditions = evaluateRules(
      [
        rule({ name: "inst", kind: "instance_down" }),
        rule({ name: "dep", kind: "dependency_down", dependency: "red*" }),
        rule({ name: "outbox", kind: "outbox_backlog", threshold: 49 }),
        rule({ name: "lag", kind: "consumer_lag", threshold: 12 }),
        rule({ name: "dlq", kind: "dead_letters" }),
        rule({ name: "svc", kind: "service_down" }),
      ],
      snap,
    );
    expect(conditions.map((c) => c.fingerprint).sort()).toEqual([
      "monitor:dep:notifier:a-1:redis",
      "monitor:dlq:notifier",
      "monitor:inst:notifier:a-2",
      "monitor:outbox:notifier",
    ]);
    expect(evaluateRules(defaultRules(), snap)).toEqual(evaluateRules(defaultRules(), snap));
  });
  it("only watch the services a rule names", () => {
    expect(
      evaluateRules([rule({ name: "inst", kind: "instance_down", services: ["config-*"] })], snap),
    ).toEqual([]);
  });
  it("report drift findings only once they are older than the rule says", () => {
    const finding = {
      findingId: "f1",
      kind: "stale" as const,
      namespace: "payments",
      environment: "production",
      severity: "warning",
      summary: "2 instances behind",
      openedAt: new Date(NOW - 10 * 60_000),
    };
    const r = [rule({ name: "old-drift", kind: "drift_finding_open", olderThan: "5m" })];
    expect(evaluateRules(r, { ...snap, findings: [finding] })).toHaveLength(1);
    expect(
      evaluateRules([rule({ name: "old", kind: "drift_finding_open", olderThan: "1h" })], {
        ...snap,
        findings: [finding],
      }),
    ).toHaveLength(0);
    expect(
      evaluateRules([rule({ ...r[0], findingKinds: ["policy"] })], { ...snap, findings: [finding] }),
    ).toHaveLength(0);
  });
  const backup = (over: Partial<BackupStatus> = {}): BackupStatus => ({
    kind: "incremental",
    watchedSince: new Date(NOW - 86_400_000),
    verifiedAt: null,
    verifiedBackupId: null,
    failedAt: null,
    failedBackupId: null,
    failedStage: null,
    failureReason: null,
    ...over,
  });
  it("report a failed backup only while no verified backup of its kind came after the failure", () => {
    const failed = backup({
      failedAt: new Date(NOW - 60_000),
      failedBackupId: "bk-20261206T210501Z-incremental-3f9a2c",
      failedStage: "backup",
      failureReason: "EACCES",
    });
    const r = [rule({ name: "bf", kind: "backup_failed" })];
    const [c] = evaluateRules(r, { ...snap, backups: [failed] });
    expect(c).toMatchObject({
      fingerprint: "monitor:bf:incremental",
      labels: { backup_kind: "incremental" },
    });
    expect(c?.details).toContain("EACCES");
    const later = { ...failed, verifiedAt: new Date(NOW - 1_000) };
    expect(evaluateRules(r, { ...snap, backups: [later] })).toEqual([]);
    const older = { ...failed, verifiedAt: new Date(NOW - 120_000) };
    expect(evaluateRules(r, { ...snap, backups: [older] })).toHaveLength(1);
    expect(
      evaluateRules([rule({ name: "bf", kind: "backup_failed", backupKinds: ["full"] })], {
        ...snap,
        backups: [failed],
      }),
    ).toEqual([]);
  });
  it("report a pipeline whose newest finished run failed, per pipeline and only those its globs name", () => {
    const failed = {
      pipeline: "payments-to-prod",
      namespace: "payments",
      environment: "prod",
      runId: "6f1c2a7e-2b8d-4c1e-9a53-0d7f1e2b3c4d",
      outcome: "failed" as const,
      finishedAt: new Date(NOW - 5_000),
      failedStep: "smoke",
      failureReason: "exit code 3",
      rolledBack: true,
    };
    const ok = { ...failed, pipeline: "billing-to-prod", outcome: "succeeded" as const, failedStep: null };
    const r = [rule({ name: "pf", kind: "pipeline_failed" })];
    const found = evaluateRules(r, { ...snap, pipelines: [failed, ok] });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      fingerprint: "monitor:pf:payments-to-prod",
      labels: {
        pipeline: "payments-to-prod",
        namespace: "payments",
        environment: "prod",
        kind: "pipeline_failed",
      },
    });
    expect(found[0]?.summary).toContain("at step smoke");
    expect(found[0]?.details).toContain("rolled back");
    const onlyBilling = [rule({ name: "pf", kind: "pipeline_failed", pipelines: ["billing-*"] })];
    expect(evaluateRules(onlyBilling, { ...snap, pipelines: [failed, ok] })).toEqual([]);
  });
  it("count a backup overdue from its last verification, or from when watching began", () => {
    const r = [rule({ name: "late", kind: "backup_overdue", backupKind: "incremental", within: "30m" })];
    const fresh = backup({ verifiedAt: new Date(NOW - 10 * 60_000) });
    expect(evaluateRules(r, { ...snap, backups: [fresh] })).toEqual([]);
    const stale = backup({ verifiedAt: new Date(NOW - 31 * 60_000) });
    expect(evaluateRules(r, { ...snap, backups: [stale] })[0]?.fingerprint).toBe("monitor:late:incremental");
    const never = backup({ watchedSince: new Date(NOW - 5 * 60_000) });
    expect(evaluateRules(r, { ...snap, backups: [never] })).toEqual([]);
    expect(evaluateRules(r, { ...snap, backups: [backup()] })[0]?.summary).toContain("began watching");
    expect(evaluateRules(r, { ...snap, backups: [backup({ kind: "full" })] })).toEqual([]);
  });
  it("report tokens expiring within the window, not expired ones, and nothing without an answer", () => {
    const token = (id: string, inMs: number) => ({
      id,
      name: `ci-${id}`,
      owner: "ops",
      expiresAt: new Date(NOW + inMs),
    });
    const r = [rule({ name: "tok", kind: "token_expiring", within: "7d" })];
    const tokens = [token("tok_a", 3 * 86_400_000), token("tok_b", 30 * 86_400_000), token("tok_c", -1)];
    const out = evaluateRules(r, { ...snap, tokens });
    expect(out.map((c) => c.fingerprint)).toEqual(["monitor:tok:tok_a"]);
    expect(out[0]?.summary).toContain("expires in 3 days");
    expect(evaluateRules(r, { ...snap, tokens: null })).toEqual([]);
  });
});

describe("transitions", () => {
  const cond = {
    fingerprint: "monitor:x:notifier",
    rule: "x",
    severity: "error" as const,
    summary: "s",
    details: "",
    labels: {},
    forMs: 30_000,
  };
  const state = (status: AlertState["status"], sinceMsAgo: number): AlertState => ({
    fingerprint: cond.fingerprint,
    rule: "x",
    status,
    severity: "error",
    summary: "s",
    labels: {},
    activeSince: new Date(NOW - sinceMsAgo),
    firedAt: null,
    resolvedAt: null,
  });
  const now = new Date(NOW);

  it("hold a new condition pending until its `for` has passed, then fire it", () => {
    expect(planTransitions([], [cond], now).pending).toHaveLength(1);
    expect(planTransitions([state("pending", 10_000)], [cond], now)).toEqual({
      pending: [],
      fire: [],
      resolve: [],
      drop: [],
    });
    const fired = planTransitions([state("pending", 30_000)], [cond], now).fire;
    expect(fired).toHaveLength(1);
    expect(fired[0]?.activeSince.getTime()).toBe(NOW - 30_000);
  });
  it("fire at once with for 0, and do not fire a firing alert again", () => {
    expect(planTransitions([], [{ ...cond, forMs: 0 }], now).fire).toHaveLength(1);
    expect(planTransitions([state("firing", 1)], [cond], now).fire).toHaveLength(0);
  });
  it("resolve a firing alert whose condition stopped, and drop a pending one silently", () => {
    expect(planTransitions([state("firing", 60_000)], [], now).resolve).toHaveLength(1);
    expect(planTransitions([state("pending", 1)], [], now)).toMatchObject({
      drop: [{ fingerprint: cond.fingerprint }],
      resolve: [],
    });
  });
  it("start over after a resolve: the condition is pending again", () => {
    expect(planTransitions([state("resolved", 60_000)], [cond], now).pending).toHaveLength(1);
  });
});
