import {
  CONFIG_GET_COMMAND,
  ConfigGetReply,
  ConfigSetReply,
  configGetSubject,
  configSetSubject,
} from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

/** Sent where a client sends it: the subject names the body's target. */
const get = (h: Harness, body: { namespace: string; environment: string; [k: string]: unknown }) =>
  h.nats.bus.requestCommand(configGetSubject(body), body, ConfigGetReply);

describe("config read command over NATS (nexus.config.cmd.get.<env>.<ns>)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
    await call(h, "POST", "/v1/namespaces", { name: "billing", variables: { REGION: "eu-west-1" } });
    await call(h, "PUT", "/v1/namespaces/billing/layers/base", { region: "${env:REGION}", retries: 3 });
    await call(h, "PUT", "/v1/namespaces/billing/layers/production", { retries: 5 });
  });
  afterAll(async () => h?.close());

  it("answers with the same revision, hash and content as the REST read", async () => {
    const rest = await call(h, "GET", "/v1/namespaces/billing/environments/production/resolved");
    const reply = await get(h, { schemaVersion: 1, namespace: "billing", environment: "production" });
    expect(reply).toEqual({
      ok: true,
      notModified: false,
      namespace: "billing",
      environment: "production",
      revision: rest.body.revision,
      hash: rest.body.hash,
      content: { region: "eu-west-1", retries: 5 },
    });
  });

  it("answers notModified without content when ifNoneMatch is the current hash, and content once it moved", async () => {
    const before = await call(h, "GET", "/v1/namespaces/billing/environments/staging/resolved");
    const same = await get(h, {
      schemaVersion: 1,
      namespace: "billing",
      environment: "staging",
      ifNoneMatch: before.body.hash,
    });
    expect(same).toEqual({
      ok: true,
      notModified: true,
      namespace: "billing",
      environment: "staging",
      revision: before.body.revision,
      hash: before.body.hash,
    });

    const write = await call(h, "PUT", "/v1/namespaces/billing/layers/staging", { retries: 1 });
    expect(write.status).toBe(200);
    const moved = await get(h, {
      schemaVersion: 1,
      namespace: "billing",
      environment: "staging",
      ifNoneMatch: before.body.hash,
    });
    expect(moved).toMatchObject({ ok: true, notModified: false, revision: write.body.revision });
    if (!moved.ok || moved.notModified) throw new Error("expected content");
    expect(moved.content).toEqual({ region: "eu-west-1", retries: 1 });
    expect(moved.hash).not.toBe(before.body.hash);
  });

  it("with revision, answers the document as of that namespace revision, as the REST read does", async () => {
    const old = await call(h, "GET", "/v1/namespaces/billing/environments/production/resolved");
    const write = await call(h, "PUT", "/v1/namespaces/billing/layers/production", { retries: 9 });
    expect(write.status).toBe(200);
    const rest = await call(
      h,
      "GET",
      `/v1/namespaces/billing/environments/production/resolved?revision=${old.body.revision}`,
    );
    const past = await get(h, {
      schemaVersion: 1,
      namespace: "billing",
      environment: "production",
      revision: old.body.revision,
    });
    expect(past).toEqual({
      ok: true,
      notModified: false,
      namespace: "billing",
      environment: "production",
      revision: old.body.revision,
      hash: old.body.hash,
      content: { region: "eu-west-1", retries: 5 },
    });
    expect(rest.body).toMatchObject({ revision: old.body.revision, hash: old.body.hash });
    // The newest is still the newest; a past read is not served in its place, nor the other way round.
    const now = await get(h, { schemaVersion: 1, namespace: "billing", environment: "production" });
    expect(now).toMatchObject({ ok: true, revision: write.body.revision, content: { retries: 9 } });
    expect(
      await get(h, {
        schemaVersion: 1,
        namespace: "billing",
        environment: "production",
        revision: old.body.revision,
        ifNoneMatch: old.body.hash,
      }),
    ).toMatchObject({ ok: true, notModified: true, revision: old.body.revision });
    expect(
      await get(h, { schemaVersion: 1, namespace: "billing", environment: "production", revision: 10_000 }),
    ).toMatchObject({ ok: false, error: { statusCode: 404, code: "revision_not_found", field: "revision" } });
    for (const revision of [-1, 1.5, "2"])
      expect(
        await get(h, { schemaVersion: 1, namespace: "billing", environment: "production", revision }),
      ).toMatchObject({ ok: false, error: { statusCode: 400, code: "invalid_command", field: "revision" } });
  });

  it("refuses unknown namespaces and environments with the REST error codes, and bad requests with the field", async () => {
    expect(await get(h, { schemaVersion: 1, namespace: "nope", environment: "production" })).toMatchObject({
      ok: false,
      error: { statusCode: 404, code: "namespace_not_found" },
    });
    expect(await get(h, { schemaVersion: 1, namespace: "billing", environment: "moon" })).toMatchObject({
      ok: false,
      error: { statusCode: 404, code: "environment_not_found" },
    });
    expect(
      await get(h, { schemaVersion: 1, namespace: "billing", environment: "production", ifNoneMatch: "x" }),
    ).toMatchObject({ ok: false, error: { statusCode: 400, code: "invalid_command", field: "ifNoneMatch" } });
  });

  it("refuses a body naming another namespace or environment than the subject, so subject permissions hold", async () => {
    await call(h, "POST", "/v1/namespaces", { name: "ledger" });
    await call(h, "PUT", "/v1/namespaces/ledger/layers/base", { owner: "ledger" });
    const asLedger = configGetSubject({ environment: "production", namespace: "ledger" });
    const otherNamespace = await h.nats.bus.requestCommand(
      asLedger,
      { schemaVersion: 1, namespace: "billing", environment: "production" },
      ConfigGetReply,
    );
    expect(otherNamespace).toMatchObject({
      ok: false,
      error: { statusCode: 400, code: "subject_mismatch", field: "namespace" },
    });
    const otherEnvironment = await h.nats.bus.requestCommand(
      asLedger,
      { schemaVersion: 1, namespace: "ledger", environment: "staging" },
      ConfigGetReply,
    );
    expect(otherEnvironment).toMatchObject({
      ok: false,
      error: { statusCode: 400, code: "subject_mismatch", field: "environment" },
    });
    for (const subject of [`${CONFIG_GET_COMMAND}.production`, `${asLedger}.extra`]) {
      const malformed = await h.nats.bus.requestCommand(
        subject,
        { schemaVersion: 1, namespace: "ledger", environment: "production" },
        ConfigGetReply,
      );
      expect(malformed).toMatchObject({ ok: false, error: { statusCode: 400, code: "subject_mismatch" } });
    }
    // The bare root (the subject before it carried the target) has nobody serving it.
    await expect(
      h.nats.bus.requestCommand(
        CONFIG_GET_COMMAND,
        { schemaVersion: 1, namespace: "ledger", environment: "production" },
        ConfigGetReply,
        500,
      ),
    ).rejects.toThrow();
    expect(await get(h, { schemaVersion: 1, namespace: "ledger", environment: "production" })).toMatchObject({
      ok: true,
      content: { owner: "ledger" },
    });
  });

  it("refuses a config set whose body names another namespace or layer than the subject, and writes nothing", async () => {
    const before = await call(h, "GET", "/v1/namespaces/billing/layers/base");
    const write = (subject: string, namespace: string, layer: string) =>
      h.nats.bus.requestCommand(
        subject,
        { schemaVersion: 1, namespace, layer, content: { hijacked: true }, author: "svc" },
        ConfigSetReply,
      );
    const asLedgerBase = configSetSubject({ layer: "base", namespace: "ledger" });
    expect(await write(asLedgerBase, "billing", "base")).toMatchObject({
      ok: false,
      error: { statusCode: 400, code: "subject_mismatch", field: "namespace" },
    });
    expect(
      await write(configSetSubject({ layer: "staging", namespace: "billing" }), "billing", "base"),
    ).toMatchObject({ ok: false, error: { statusCode: 400, code: "subject_mismatch", field: "layer" } });
    const after = await call(h, "GET", "/v1/namespaces/billing/layers/base");
    expect(after.body.revision).toBe(before.body.revision);
    expect(after.body.content).not.toHaveProperty("hijacked");
  });
});
