import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import {
  createTestBus,
  createTestDatabase,
  startTestIssuer,
  TEST_NATS_URL,
  type TestDatabase,
  type TestIssuer,
} from "@nexus/test-fixtures";
import { afterAll, describe, expect, it } from "vitest";
import {
  REGISTRY_MIGRATIONS,
  REGISTRY_SCHEMA,
} from "../../services/config-registry/test/integration/harness.js";
import {
  INTAKE_TOKEN,
  NOTIFIER_MIGRATIONS,
  NOTIFIER_SCHEMA,
  raised,
  TEST_SECRETS_KEY,
} from "../../services/notifier/test/integration/harness.js";
import { startReceiver } from "../../services/notifier/test/integration/receivers.js";
import { hasFaketime, type SkewedClock, skewedClock } from "../support/faketime.js";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.js";
import { recordFigure } from "./figures.js";

/**
 * Clock skew, with libfaketime preloaded into a real service process (the backup service): its
 * wall clock runs ahead, behind, and is stepped back and forward while it runs, as NTP or a
 * restored VM does.
 *
 * - Tokens: OIDC JWTs are checked against the service's own clock with a leeway of 30 s
 *   (OIDC_CLOCK_TOLERANCE_SECONDS in the kit): a token is still taken up to 30 s after its expiry
 *   by the service's clock, and a clock off by more than that refuses tokens that have that much
 *   left (or takes ones expired that long ago, if behind).
 * - Schedules: croner schedules from the wall clock. A clock stepped back past a time that fired
 *   reaches it again; the time is claimed in Postgres before it runs, so it fires once. A clock
 *   stepped forward skips the times in between: none of them fires late, let alone each of them.
 * - Silences (the notifier): judged by the database's clock, which their queries use anyway; a
 *   notifier whose clock runs 10 min ahead takes a silence ending in 5 min and calls it active
 *   (it used to refuse it, "endsAt is in the past", and end silences early when muting alerts).
 * - Leases: the schedules' holders use Postgres advisory locks (held by a session, not for a time).
 *   Timed claims (a notifier's delivery, an orchestrator's run or job) end at `now() + lease` by
 *   the database's clock, and a delivery's retry is a delay the database adds to its own clock: two
 *   notifiers 20 min apart share deliveries without sending one twice, and a notifier 10 min ahead
 *   retries after its backoff, not 10 min late (it used to write its own clock's time).
 *   The orchestrator's schedules record each fired time with its run and fire a missed one once
 *   within a grace (services/orchestrator/src/schedules), the shape the backup schedule now has.
 */
const LEEWAY_S = 30;
/** A backup every 5 s by the wall clock; the forward step is 7 of them (the back step is measured). */
const PATTERN_S = 5;
const FORWARD_S = 7 * PATTERN_S;

describe.skipIf(!hasFaketime())("fault: clock skew", () => {
  let db: TestDatabase | undefined;
  let issuer: TestIssuer | undefined;
  let clock: SkewedClock | undefined;
  let backup: ServiceProcess | undefined;
  let dir: string | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close().catch(() => undefined);
    await backup?.stop();
    await Promise.allSettled([db?.drop(), issuer?.close(), clock?.remove()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("refuses expired tokens beyond the leeway, takes valid ones within it, and fires each scheduled time once", async () => {
    [db, issuer, clock, dir] = await Promise.all([
      createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
      startTestIssuer(),
      skewedClock(0),
      mkdtemp(join(tmpdir(), "nexus-skew-backups-")),
    ]);
    // One small table to back up: a backup and its drill take well under the pattern's 5 s.
    await db.pool.query(
      "CREATE SCHEMA skew_data; CREATE TABLE skew_data.t (id int PRIMARY KEY); INSERT INTO skew_data.t VALUES (1)",
    );
    // Built (plain node, as up.sh starts it): faster to start than through tsx.
    backup = await startServiceProcess(
      "backup (libfaketime)",
      "services/backup/src/main.ts",
      {
        ...clock.env,
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: "backup",
        BACKUP_SCHEMAS: "skew_data",
        BACKUP_DIR: dir,
        BACKUP_CRON: `*/${PATTERN_S} * * * * *`,
        INCREMENTAL_CRON: "",
        VERIFY_CRON: "",
        NATS_URL: TEST_NATS_URL,
        NATS_PREFIX: `skew${process.pid}`,
        OIDC_JWKS_URL: issuer.jwksUrl,
        OIDC_ISSUER: issuer.issuer,
        OIDC_AUDIENCE: issuer.audience,
        HEARTBEAT_INTERVAL_SECONDS: "1",
      },
      { built: true },
    );
    // Heartbeats sent while the clock is behind the process's start time.
    const nc = await connect({ servers: TEST_NATS_URL });
    const beatsSub = nc.subscribe(`skew${process.pid}.service.heartbeat.backup.>`);
    let beatsBehind = 0;
    void (async () => {
      for await (const m of beatsSub) {
        const hb = m.json<{ sentAt: string; startedAt: string }>();
        if (Date.parse(hb.sentAt) < Date.parse(hb.startedAt)) beatsBehind++;
      }
    })();
    closers.push(async () => {
      beatsSub.unsubscribe();
      await nc.close();
    });
    const status = async (expiresIn: number) => {
      const token = await issuer!.token(["admin"], { expiresIn });
      const res = await fetch(`${backup!.url}/v1/backups`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { error?: { code: string } };
      return res.status === 200 ? 200 : `${res.status} ${body.error?.code}`;
    };

    // Tokens. Ahead by 20 s: a token with 5 s left looks 15 s expired, within the leeway.
    await clock.set(20);
    expect(await status(5)).toBe(200);
    expect(await status(3600)).toBe(200);
    // Ahead by 2 min: a token with 1 min left looks expired for 1 min, past the leeway.
    await clock.set(120);
    expect(await status(60)).toBe("401 token_expired");
    expect(await status(3600)).toBe(200);
    // Behind by 2 min: a token expired 3 min ago still looks expired for 1 min.
    await clock.set(-120);
    expect(await status(-180)).toBe("401 token_expired");
    // The service heartbeat keeps going while the clock is behind the process's start: its uptime
    // is monotonic (a wall-clock uptime went negative and failed the heartbeat's own schema).
    await expect.poll(() => beatsBehind, { timeout: 10_000, interval: 100 }).toBeGreaterThan(0);
    // On time: expired past the leeway is refused; within it, taken.
    await clock.set(0);
    expect(await status(-(LEEWAY_S + 30))).toBe("401 token_expired");
    expect(await status(-5)).toBe(200);

    // Schedules: a backup every PATTERN_S by the wall clock.
    const slots = async () =>
      (
        await db!.pool.query<{ slot: Date }>(
          "SELECT slot FROM backup.schedule_slots WHERE job = 'backup' ORDER BY slot",
        )
      ).rows.map((r) => r.slot.getTime());
    const scheduled = async () =>
      (
        await db!.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM backup.backups WHERE trigger = 'schedule'",
        )
      ).rows[0]!.n;
    const running = async () =>
      (
        await db!.pool.query<{ n: number }>(
          `SELECT ((SELECT count(*) FROM backup.backups WHERE status = 'running')
                + (SELECT count(*) FROM backup.verifications WHERE status = 'running'))::int AS n`,
        )
      ).rows[0]!.n;
    await expect
      .poll(async () => (await slots()).length, { timeout: 30_000, interval: 100 })
      .toBeGreaterThan(0);
    // Wait for that time's backup and its drill to end: croner skips a time reached while the
    // previous run still goes (protect). Then step the clock back so that croner, when it next
    // wakes (at the pattern's next time by the real clock), reads 3 s before the newest fired
    // time: it schedules that time again and reaches it with nothing running. A fixed step lands
    // wherever the last poll happened to be, and a wake-up a millisecond early by the wall clock
    // at a boundary picks an earlier, never-fired time whose backup then blocks the repeat.
    const PATTERN_MS = PATTERN_S * 1000;
    const settled = async () => (await running()) === 0 && (await scheduled()) === (await slots()).length;
    let fired: number[];
    let wake: number;
    for (;;) {
      await expect.poll(settled, { timeout: 60_000, interval: 100 }).toBe(true);
      fired = await slots();
      wake = Math.ceil(Date.now() / PATTERN_MS) * PATTERN_MS;
      if (wake - Date.now() >= 1_500) break;
      await new Promise((r) => setTimeout(r, wake - Date.now() + 500));
    }
    const back = (fired.at(-1)! - wake) / 1000 - 3;
    await clock.set(back);
    await expect
      .poll(() => /has fired already \(the clock went back\)/.test(backup!.output()), {
        timeout: 40_000,
        interval: 200,
      })
      .toBe(true);
    // The repeat fired nothing; the next new time does, once.
    await expect
      .poll(async () => (await slots()).length, { timeout: 40_000, interval: 200 })
      .toBe(fired.length + 1);
    const [first, second] = (await slots()).slice(-2);
    expect(second! - first!).toBeGreaterThanOrEqual(PATTERN_S * 1000);
    expect((second! - first!) % (PATTERN_S * 1000)).toBe(0);
    await expect.poll(scheduled, { timeout: 30_000, interval: 200 }).toBe(fired.length + 1);

    // Stepped forward 35 s: six times are skipped; the next one after the step fires, once.
    await clock.set(back + FORWARD_S);
    const steppedAt = Date.now();
    await expect
      .poll(async () => (await slots()).length, { timeout: 30_000, interval: 200 })
      .toBeGreaterThanOrEqual(fired.length + 2);
    await new Promise((r) => setTimeout(r, 3_000));
    const after = await slots();
    expect(after.length).toBeLessThanOrEqual(fired.length + 3);
    expect(new Set(after).size).toBe(after.length);
    expect(after[fired.length + 1]! - after[fired.length]!).toBeGreaterThanOrEqual(
      (FORWARD_S - PATTERN_S) * 1000,
    );
    const firedAfterStepMs = Date.now() - steppedAt;
    await expect.poll(scheduled, { timeout: 30_000, interval: 200 }).toBe(after.length);

    expect(backup.output()).not.toMatch(/uptimeSeconds/);

    await recordFigure({
      fault: `clock skew (libfaketime in the backup service: ±2 min, stepped back ${-back} s to 3 s before a fired time and forward ${FORWARD_S} s)`,
      outcome: `tokens: leeway ${LEEWAY_S} s, expired refused past it; schedule: a time reached twice fired once, 6 skipped times fired 0 times`,
      figure: `${after.length} scheduled backups for ${after.length} distinct times (first after the forward step within ${(firedAfterStepMs / 1000).toFixed(0)} s)`,
    });
  }, 150_000);

  it("judges silences by the database's clock, not a notifier's that runs 10 min ahead", async () => {
    issuer ??= await startTestIssuer();
    const ndb = await createTestDatabase({ schema: NOTIFIER_SCHEMA, migrationsDir: NOTIFIER_MIGRATIONS });
    const ahead = await skewedClock(600);
    let notifier: ServiceProcess | undefined;
    try {
      notifier = await startServiceProcess(
        "notifier (libfaketime, +10 min)",
        "services/notifier/src/main.ts",
        {
          ...ahead.env,
          DATABASE_URL: ndb.url,
          DATABASE_SCHEMA: NOTIFIER_SCHEMA,
          NOTIFIER_SECRETS_KEY: TEST_SECRETS_KEY,
          NATS_URL: TEST_NATS_URL,
          NATS_PREFIX: `skewn${process.pid}`,
          OIDC_JWKS_URL: issuer!.jwksUrl,
          OIDC_ISSUER: issuer!.issuer,
          OIDC_AUDIENCE: issuer!.audience,
        },
        { built: true },
      );
      const token = await issuer!.token(["admin"], { expiresIn: 3600 });
      const endsAt = new Date(Date.now() + 5 * 60_000).toISOString();
      const res = await fetch(`${notifier.url}/v1/silences`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          matchers: [{ label: "alertname", op: "=", value: "DiskFull" }],
          endsAt,
          comment: "maintenance",
        }),
      });
      const body = (await res.json()) as { id: string; state: string; startsAt: string };
      expect(res.status).toBe(201);
      expect(body.state).toBe("active");
      // It starts now by the database's clock, not 10 min from now.
      expect(Math.abs(Date.parse(body.startsAt) - Date.now())).toBeLessThan(60_000);
      const read = await fetch(`${notifier.url}/v1/silences/${body.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(((await read.json()) as { state: string }).state).toBe("active");
      await recordFigure({
        fault: "clock skew: notifier 10 min ahead",
        outcome: "a silence ending in 5 min is taken and active (judged by Postgres's clock)",
        figure: "0 silences refused or ended early",
      });
    } finally {
      await notifier?.stop();
      await Promise.allSettled([ndb.drop(), ahead.remove()]);
    }
  }, 90_000);

  it("shares delivery claims between notifiers 20 min apart and retries by the database's clock", async () => {
    const [ndb, bus, hook, ahead, behind] = await Promise.all([
      createTestDatabase({ schema: NOTIFIER_SCHEMA, migrationsDir: NOTIFIER_MIGRATIONS }),
      createTestBus(),
      startReceiver({ status: 200, body: "ok", delayMs: 30 }),
      skewedClock(600),
      skewedClock(-600),
    ]);
    const notifiers: ServiceProcess[] = [];
    try {
      // One alert, one group, one notification: a second send of a delivery id is a lease taken twice.
      const routing = {
        route: { receiver: "hook", groupWaitMs: 0, groupBy: ["..."] },
        receivers: [{ name: "hook", type: "webhook", url: `${hook.url}/alerts`, sendResolved: true }],
        inhibitRules: [],
      };
      await ndb.pool.query("INSERT INTO routing_versions (version, config, author) VALUES (1, $1, 'test')", [
        JSON.stringify(routing),
      ]);
      const start = (name: string, clockEnv: Record<string, string>) =>
        startServiceProcess(
          name,
          "services/notifier/src/main.ts",
          {
            ...clockEnv,
            DATABASE_URL: ndb.url,
            DATABASE_SCHEMA: NOTIFIER_SCHEMA,
            NOTIFIER_SECRETS_KEY: TEST_SECRETS_KEY,
            NATS_URL: TEST_NATS_URL,
            NATS_PREFIX: bus.prefix,
            CONSUME_EVENTS: "true",
            ALERTMANAGER_INTAKE_TOKEN: INTAKE_TOKEN,
            OUTBOUND_ALLOW_HTTP: "true",
            OUTBOUND_ALLOW_ADDRESSES: "127.0.0.1",
            DELIVERY_LEASE_MS: "5000",
            DELIVERY_BACKOFF_BASE_MS: "200",
            WORKER_POLL_MS: "100",
          },
          { built: true },
        );
      const alert = (fingerprint: string) =>
        bus.bus.publish(
          "nexus.alert.raised",
          raised({ fingerprint, labels: { namespace: "skew", instance: fingerprint } }),
        );
      /** Fingerprint → delivery ids of the sends the receiver answered 200 (the first `failed` got 503). */
      const accepted = (failed: number) => {
        const ids = new Map<string, string[]>();
        hook.requests.forEach((req, i) => {
          if (i < failed) return;
          const id = String(req.headers["x-nexus-delivery"]);
          for (const a of (req.body as { alerts: { fingerprint: string; status: string }[] }).alerts) {
            if (a.status === "firing") ids.set(a.fingerprint, [...(ids.get(a.fingerprint) ?? []), id]);
          }
        });
        return ids;
      };

      // The notifier 10 min ahead alone: its first three sends are refused, their retries are due
      // after the backoff by Postgres's clock.
      notifiers.push(await start("notifier (libfaketime, +10 min)", ahead.env));
      const FAILED = 3;
      hook.script.push(...Array.from({ length: FAILED }, () => ({ status: 503, body: "busy" })));
      const t0 = Date.now();
      await Promise.all(["retry-0", "retry-1", "retry-2"].map(alert));
      await expect.poll(() => accepted(FAILED).size, { timeout: 30_000, interval: 200 }).toBe(FAILED);
      const retriedWithinMs = Date.now() - t0;

      // Then one 10 min behind beside it: both claim from the same table while alerts stream in.
      notifiers.push(await start("notifier (libfaketime, -10 min)", behind.env));
      const shared = Array.from({ length: 40 }, (_, i) => `shared-${i}`);
      for (const fp of shared) {
        await alert(fp);
        await new Promise((r) => setTimeout(r, 50));
      }
      await expect
        .poll(() => shared.filter((fp) => accepted(FAILED).has(fp)).length, {
          timeout: 60_000,
          interval: 200,
        })
        .toBe(shared.length);
      await new Promise((r) => setTimeout(r, 1_500)); // a second send would come now
      const sentTwice = [...accepted(FAILED)].filter(([, ids]) => ids.length !== 1).map(([fp]) => fp);
      expect(sentTwice).toEqual([]);
      const open = await ndb.pool.query(
        "SELECT count(*)::int AS n FROM deliveries WHERE status <> 'delivered'",
      );
      expect(open.rows[0].n).toBe(0);
      await recordFigure({
        fault: "clock skew: notifiers 10 min ahead and 10 min behind, one database",
        outcome: "delivery claims and retries judged by Postgres's clock",
        figure: `3 refused sends retried within ${(retriedWithinMs / 1000).toFixed(1)} s; ${shared.length} alerts, 0 sent twice`,
      });
    } finally {
      await Promise.allSettled(notifiers.map((n) => n.stop()));
      await hook.close();
      await Promise.allSettled([ndb.drop(), bus.cleanup(), ahead.remove(), behind.remove()]);
    }
  }, 150_000);
});
