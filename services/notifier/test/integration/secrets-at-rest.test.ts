/**
 * The canary test of receiver secrets at rest: receivers are written with known secret values,
 * deliveries run (one fails with a receiver answer that echoes its key), and then every text and
 * JSON column of the database, the service's log output and every NATS message seen are searched
 * for the plaintext. A flipped ciphertext byte must fail to open with a clear error.
 */
import { randomBytes } from "node:crypto";
import type { Subscription } from "@nats-io/transport-node";
import {
  createLogger,
  newSealingKey,
  openSealed,
  parseSealingKeys,
  SealError,
  sealedKeyId,
} from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPath, secretFieldsOf } from "../../src/routing/routing-fns.js";
import type { Receiver } from "../../src/routing/routing-types.js";
import { openReceiverSecrets, ReceiverSecretError, secretAad } from "../../src/routing/secret-fns.js";
import {
  type Harness,
  INTAKE_TOKEN,
  raised,
  startNotifier,
  TEST_SECRETS_KEY,
  testSecretsKeys,
} from "./harness.js";
import { type ScriptedReceiver, type SmtpSink, startReceiver, startSmtpSink } from "./receivers.js";

const alertmanagerAlert = (fingerprint: string) => ({
  version: "4",
  groupKey: "{}:{}",
  truncatedAlerts: 0,
  status: "firing",
  receiver: "nexus",
  groupLabels: {},
  commonLabels: {},
  commonAnnotations: {},
  externalURL: "http://alertmanager.example.com:9093",
  alerts: [
    {
      status: "firing",
      labels: { alertname: "CanaryAfterRotation", severity: "critical" },
      annotations: { summary: "after the key rotation" },
      startsAt: "2026-01-01T00:00:00Z",
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus.example.com/graph",
      fingerprint,
    },
  ],
});

const canary = (what: string) => `CANARY${what}${randomBytes(8).toString("hex")}`;

describe("receiver secrets are encrypted at rest", () => {
  const secrets = {
    slackPath: canary("slack"),
    routingKey: canary("pagerduty"),
    smtpPassword: canary("smtp"),
    hookToken: canary("hookurl"),
    signingSecret: canary("signing"),
  };
  const all = Object.values(secrets);
  let h: Harness;
  let slack: ScriptedReceiver;
  let pd: ScriptedReceiver;
  let hook: ScriptedReceiver;
  let smtp: SmtpSink;
  let logs = "";
  const natsSeen: string[] = [];
  let sub: Subscription;

  beforeAll(async () => {
    const logger = createLogger(
      { service: "notifier-canary", level: "debug" },
      {
        write: (line: string) => {
          logs += line;
        },
      },
    );
    [h, slack, pd, hook, smtp] = await Promise.all([
      startNotifier({}, { logger }),
      startReceiver(),
      // PagerDuty refuses the key and echoes it: the recorded error must not carry it.
      startReceiver({
        status: 400,
        body: `{"status":"invalid event","message":"bad key ${secrets.routingKey}"}`,
      }),
      startReceiver(),
      startSmtpSink(),
    ]);
    sub = h.nats.nc.subscribe(">");
    void (async () => {
      for await (const m of sub) natsSeen.push(`${m.subject} ${m.string()}`);
    })();
    const put = async (body: unknown) => {
      const res = await h.call("PUT", `/v1/receivers/${(body as { name: string }).name}`, body);
      expect(res.status).toBe(200);
    };
    await put({ name: "c-slack", type: "slack", webhookUrl: `${slack.url}/services/${secrets.slackPath}` });
    await put({
      name: "c-pd",
      type: "pagerduty",
      routingKey: secrets.routingKey,
      url: `${pd.url}/v2/enqueue`,
    });
    await put({
      name: "c-mail",
      type: "email",
      to: ["oncall@example.com"],
      from: "nexus@example.com",
      smtp: { host: "127.0.0.1", port: smtp.port, user: "nexus", password: secrets.smtpPassword },
    });
    await put({
      name: "c-hook",
      type: "webhook",
      url: `${hook.url}/hook?token=${secrets.hookToken}`,
      signingSecret: secrets.signingSecret,
    });
    const each = (receiver: string) => ({ receiver, continue: true, groupWaitMs: 0 });
    const res = await h.call("PUT", "/v1/routing/route", {
      route: { groupWaitMs: 0, groupBy: ["..."], routes: ["c-slack", "c-pd", "c-mail", "c-hook"].map(each) },
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    sub?.unsubscribe();
    await Promise.all([slack?.close(), pd?.close(), hook?.close(), smtp?.close()]);
    await h?.close();
  });

  it("sends with the plaintext, and stores, logs and publishes none of it", async () => {
    await h.publish("nexus.alert.raised", raised({ fingerprint: "canary-1" }));
    const [toSlack] = await slack.waitFor(1);
    const [toPd] = await pd.waitFor(1);
    const [toHook] = await hook.waitFor(1);
    await smtp.waitFor(1);
    // Opened for sending: each receiver got its secret.
    expect(toSlack!.path).toBe(`/services/${secrets.slackPath}`);
    expect((toPd!.body as { routing_key: string }).routing_key).toBe(secrets.routingKey);
    expect(toHook!.path).toBe(`/hook?token=${secrets.hookToken}`);
    expect(toHook!.headers["x-nexus-signature"]).toMatch(/^sha256=/);
    expect(smtp.passwords).toContain(secrets.smtpPassword);
    // Every delivery recorded (the PagerDuty one dead-lettered with the receiver's answer).
    await h.until(async () => {
      const r = await h.db.pool.query(
        "SELECT count(*)::int AS n FROM notifier.deliveries WHERE status IN ('delivered', 'dead')",
      );
      return r.rows[0].n === 4;
    });
    const dead = await h.db.pool.query("SELECT last_error FROM notifier.deliveries WHERE status = 'dead'");
    expect(dead.rows[0].last_error).toContain("bad key <redacted>");
    await h.app.audit.flush();
    await h.call("GET", "/v1/routing/versions");

    // Every text, varchar, json, jsonb and array column of every table in the database.
    const columns = await h.db.pool.query<{ table_schema: string; table_name: string; column_name: string }>(
      `SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
         AND (c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea') OR c.data_type = 'ARRAY')`,
    );
    expect(columns.rows.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(
      expect.arrayContaining(["routing_versions.config", "deliveries.message", "deliveries.last_error"]),
    );
    const found: string[] = [];
    for (const c of columns.rows) {
      const ident = `"${c.table_schema}"."${c.table_name}"`;
      const res = await h.db.pool.query<{ v: string }>(
        `SELECT "${c.column_name}"::text AS v FROM ${ident} WHERE "${c.column_name}"::text LIKE '%CANARY%'`,
      );
      for (const row of res.rows)
        for (const s of all) if (row.v.includes(s)) found.push(`${c.table_name}.${c.column_name}`);
    }
    expect(found).toEqual([]);
    const stored = await h.db.pool.query("SELECT count(*)::int AS n FROM notifier.routing_versions");
    expect(stored.rows[0].n).toBeGreaterThan(0);

    expect(logs.length).toBeGreaterThan(0);
    for (const s of all) expect(logs).not.toContain(s);
    expect(natsSeen.length).toBeGreaterThan(0);
    for (const s of all) for (const m of natsSeen) expect(m).not.toContain(s);
  });

  it("refuses a ciphertext with a flipped byte: a clear error, no plaintext, nothing sent", async () => {
    const latest = await h.db.pool.query(
      "SELECT version, config FROM notifier.routing_versions ORDER BY version DESC LIMIT 1",
    );
    const config = latest.rows[0].config as { receivers: Receiver[] };
    const target = config.receivers.find((r) => r.name === "c-hook") as Extract<
      Receiver,
      { type: "webhook" }
    >;
    const keys = testSecretsKeys();
    expect(openSealed(keys, target.signingSecret!, secretAad(target, "signingSecret"))).toBe(
      secrets.signingSecret,
    );

    const [, kid, data] = target.url.split(":") as [string, string, string];
    const raw = Buffer.from(data, "base64");
    raw[20] = raw[20]! ^ 0x01;
    target.url = `nxs1:${kid}:${raw.toString("base64")}`;
    let error: unknown;
    try {
      openReceiverSecrets(target, keys);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ReceiverSecretError);
    expect((error as ReceiverSecretError).sealError).toBeInstanceOf(SealError);
    expect((error as Error).message).toBe(
      "cannot decrypt url of receiver c-hook: the sealed value does not authenticate (changed, or copied from another place)",
    );

    // The tampered config in force: the delivery is dead-lettered with that reason, nothing goes out.
    await h.db.pool.query(
      "INSERT INTO notifier.routing_versions (version, config, author, comment) VALUES ($1, $2, 'tamperer', '')",
      [latest.rows[0].version + 1, JSON.stringify(config)],
    );
    const hookBefore = hook.requests.length;
    await h.publish(
      "nexus.alert.raised",
      raised({
        fingerprint: "canary-2",
        labels: { namespace: "payments", environment: "production", instance: "pod-2" },
      }),
    );
    const reason = await h.until(async () => {
      const r = await h.db.pool.query(
        "SELECT last_error FROM notifier.deliveries WHERE receiver = 'c-hook' AND status = 'dead' AND 'canary-2' = ANY(fingerprints)",
      );
      return r.rows[0]?.last_error as string | undefined;
    });
    expect(reason).toContain("cannot decrypt url of receiver c-hook: the sealed value does not authenticate");
    expect(hook.requests.length).toBe(hookBefore);
    for (const s of all) expect(logs).not.toContain(s);
  });

  it("rotates keys: a save moves every secret to the new key; without the old key a save is refused, naming the field", async () => {
    // Undo the tampering first (the hook's secrets are given again).
    const fixed = await h.call("PUT", "/v1/receivers/c-hook", {
      name: "c-hook",
      type: "webhook",
      url: `${hook.url}/hook?token=${secrets.hookToken}`,
      signingSecret: secrets.signingSecret,
    });
    expect(fixed.status).toBe(200);
    const route = (await h.call("GET", "/v1/routing")).body.config.route;

    const k2 = newSealingKey("k2");
    await h.restart({ secretsKeys: parseSealingKeys(k2).keys! });
    const refused = await h.call("PUT", "/v1/routing/route", { route });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe("secret_undecryptable");
    expect(refused.body.error.field).toMatch(/^receivers\.\d+\.(webhookUrl|routingKey|smtp\.password|url)$/);
    expect(refused.body.error.message).toContain('sealed with key "test1", which is not configured');

    await h.restart({ secretsKeys: parseSealingKeys(k2, TEST_SECRETS_KEY).keys! });
    expect((await h.call("PUT", "/v1/routing/route", { route, comment: "rotate to k2" })).status).toBe(200);
    const stored = await h.db.pool.query(
      "SELECT config FROM notifier.routing_versions ORDER BY version DESC LIMIT 1",
    );
    const values = (stored.rows[0].config.receivers as Receiver[]).flatMap((r) =>
      secretFieldsOf(r.type)
        .map((f) => getPath(r, f))
        .filter((v) => v !== undefined),
    );
    expect(values).toHaveLength(5);
    for (const v of values) expect(sealedKeyId(v as string)).toBe("k2");

    // Only the new key now: everything still sends.
    await h.restart({ secretsKeys: parseSealingKeys(k2).keys! });
    // (Through the Alertmanager intake: a restarted in-process app's bus consumer is not the point here.)
    const before = slack.requests.length;
    const intake = await h.call("POST", "/v1/intake/alertmanager", alertmanagerAlert("cafe0123456789ab"), {
      authorization: `Bearer ${INTAKE_TOKEN}`,
    });
    expect(intake.status).toBeLessThan(300);
    const sent = await slack.waitFor(before + 1);
    expect(sent[before]!.path).toBe(`/services/${secrets.slackPath}`);
  });
});
