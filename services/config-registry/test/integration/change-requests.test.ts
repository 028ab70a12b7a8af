import { collectEvents } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("protected environments: writes become change requests for another approver", () => {
  let h: Harness;
  let editor: string;
  let approver: string;
  let editorApprover: string;
  let outsider: string;

  beforeAll(async () => {
    h = await startRegistry({ protectedEnvironments: ["production"] });
    expect((await call(h, "POST", "/v1/namespaces", { name: "pay" })).status).toBe(201);
    expect((await call(h, "PUT", "/v1/namespaces/pay/layers/production", { limit: 1 })).status).toBe(200);
    editor = await h.tokenFor(["editor:pay"], { owner: "ed" });
    approver = await h.tokenFor(["approver:pay:production"], { owner: "ann" });
    editorApprover = await h.tokenFor(["editor:pay", "approver:pay"], { owner: "eve" });
    outsider = await h.tokenFor(["approver:other"], { owner: "otto" });
  });
  afterAll(async () => h?.close());

  const production = "/v1/namespaces/pay/layers/production";

  it("turns an editor's production write into a pending request, publishes it, writes nothing", async () => {
    const requested = collectEvents<{ data: Record<string, unknown> }>(
      h.nats.nc,
      `${h.nats.prefix}.config.change-requested.>`,
      1,
    );
    const res = await call(
      h,
      "PUT",
      `${production}?message=raise`,
      { limit: 5, db: { $secret: "s3cr3t-pw" } },
      bearer(editor),
    );
    expect(res.status).toBe(202);
    expect(res.body.changeRequest).toMatchObject({
      namespace: "pay",
      layer: "production",
      kind: "replace",
      status: "pending",
      author: "ed",
      baseRevision: 1,
      message: "raise",
    });
    expect(res.body.changeRequest.content).toEqual({ limit: 5, db: "***" });
    expect(res.body.message).toContain("approver");
    const [event] = await requested;
    expect(event!.event.data).toMatchObject({
      changeRequestId: res.body.changeRequest.id,
      environments: ["production"],
    });
    expect(JSON.stringify(event!.event)).not.toContain("s3cr3t-pw");
    // Nothing written, and the pending request holds the secret sealed.
    expect((await call(h, "GET", production)).body).toMatchObject({ revision: 1, content: { limit: 1 } });
    const stored = await h.db.pool.query("SELECT content::text AS c FROM change_requests WHERE id = $1", [
      res.body.changeRequest.id,
    ]);
    expect(stored.rows[0].c).not.toContain("s3cr3t-pw");
  });

  it("lets an editor write unprotected environments directly, and an admin write production", async () => {
    const staging = await call(h, "PUT", "/v1/namespaces/pay/layers/staging", { limit: 2 }, bearer(editor));
    expect(staging.status).toBe(200);
    const admin = await call(h, "PATCH", production, { admin: true });
    expect(admin.status).toBe(200);
    const base = await call(h, "PUT", "/v1/namespaces/pay/layers/base", { x: 1 }, bearer(editor));
    expect(base.status).toBe(202); // base reaches production too
  });

  it("refuses the author's own approval and a stranger's; an approver applies it as the author's revision", async () => {
    // Made against the current head, so it can apply.
    const head = (await call(h, "GET", production)).body.revision;
    const created = await call(
      h,
      "PATCH",
      production,
      { limit: 9 },
      { ...bearer(editorApprover), "if-match": `"${head}"` },
    );
    expect(created.status).toBe(202);
    const id = created.body.changeRequest.id;

    const own = await call(h, "POST", `/v1/change-requests/${id}/approve`, {}, bearer(editorApprover));
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe("own_change_request");
    const stranger = await call(h, "POST", `/v1/change-requests/${id}/approve`, {}, bearer(outsider));
    expect(stranger.status).toBe(404);
    const editorTry = await call(h, "POST", `/v1/change-requests/${id}/approve`, {}, bearer(editor));
    expect(editorTry.status).toBe(403);

    const approved = collectEvents<{ data: Record<string, unknown> }>(
      h.nats.nc,
      `${h.nats.prefix}.config.change-approved.>`,
      1,
    );
    const ok = await call(
      h,
      "POST",
      `/v1/change-requests/${id}/approve`,
      { comment: "lgtm" },
      bearer(approver),
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      status: "approved",
      decidedBy: "ann",
      comment: "lgtm",
      revision: head + 1,
    });
    const layer = await call(h, "GET", production);
    expect(layer.body).toMatchObject({ revision: head + 1, content: { limit: 9, admin: true } });
    const rev = await call(h, "GET", `${production}/revisions/${head + 1}`);
    expect(rev.body).toMatchObject({ author: "eve", source: `change-request:${id}` });
    // The approval's audit line was committed with the revision it wrote, and only once.
    await h.registry.audit.flush();
    const lines = await h.db.pool.query(
      `SELECT a.outcome, a.status_code, a.xmin = r.xmin AS same_commit FROM audit_log a, revisions r
        WHERE a.request_id = $1 AND r.namespace = 'pay' AND r.layer = 'production' AND r.revision = $2`,
      [ok.headers["x-request-id"], head + 1],
    );
    expect(lines.rows).toEqual([{ outcome: "allowed", status_code: 200, same_commit: true }]);
    expect((await approved)[0]!.event.data).toMatchObject({
      changeRequestId: id,
      decidedBy: "ann",
      revision: head + 1,
    });

    const twice = await call(h, "POST", `/v1/change-requests/${id}/approve`, {}, bearer(approver));
    expect(twice.status).toBe(409);
  });

  it("refuses to apply a request made against an older revision, and rejects without writing", async () => {
    const list = await call(
      h,
      "GET",
      "/v1/change-requests?namespace=pay&status=pending",
      undefined,
      bearer(approver),
    );
    const stale = list.body.items.find(
      (c: { layer: string; baseRevision: number }) => c.layer === "production",
    );
    expect(stale).toBeDefined();
    const before = (await call(h, "GET", production)).body.revision;
    const refused = await call(h, "POST", `/v1/change-requests/${stale.id}/approve`, {}, bearer(approver));
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("change_request_outdated");
    const rejected = await call(
      h,
      "POST",
      `/v1/change-requests/${stale.id}/reject`,
      { comment: "outdated" },
      bearer(approver),
    );
    expect(rejected.body).toMatchObject({ status: "rejected", decidedBy: "ann", revision: null });
    expect((await call(h, "GET", production)).body.revision).toBe(before);
  });

  it("shows the secret of a request only to a secret-reader, and hides requests from outsiders", async () => {
    const reader = await h.tokenFor(["secret-reader:pay"]);
    const list = await call(h, "GET", "/v1/change-requests?namespace=pay", undefined, bearer(reader));
    const withSecret = list.body.items.find((c: { content: { db?: unknown } }) => c.content.db !== undefined);
    expect(withSecret.content.db).toBe("s3cr3t-pw");
    const none = await call(h, "GET", "/v1/change-requests?namespace=pay", undefined, bearer(outsider));
    expect(none.body.items).toEqual([]);
  });

  it("gates a rollback of production the same way", async () => {
    const res = await call(h, "POST", `${production}/rollback`, { revision: 1 }, bearer(editor));
    expect(res.status).toBe(202);
    expect(res.body.changeRequest).toMatchObject({ kind: "rollback", content: { limit: 1 } });
  });

  it("lets only an admin of the protected environments change a namespace's variables", async () => {
    const before = (await call(h, "GET", "/v1/namespaces/pay/environments/production/resolved")).body.hash;
    const refused = await call(
      h,
      "PATCH",
      "/v1/namespaces/pay",
      { variables: { REGION: "eu" } },
      bearer(editor),
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: "protected_environment", field: "variables" });
    expect(refused.body.error.message).toContain("production");
    const ns = (await call(h, "GET", "/v1/namespaces/pay")).body;
    expect(ns.variables ?? {}).not.toHaveProperty("REGION");
    expect((await call(h, "GET", "/v1/namespaces/pay/environments/production/resolved")).body.hash).toBe(
      before,
    );

    // Metadata is not content: an editor may still change the description.
    const described = await call(
      h,
      "PATCH",
      "/v1/namespaces/pay",
      { description: "payments" },
      bearer(editor),
    );
    expect(described.status).toBe(200);
    // An admin may change the variables.
    const byAdmin = await call(h, "PATCH", "/v1/namespaces/pay", { variables: { REGION: "eu" } });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.variables).toEqual({ REGION: "eu" });

    // A namespace without protected environments: an editor may change its variables.
    expect((await call(h, "POST", "/v1/namespaces", { name: "tools", environments: ["dev"] })).status).toBe(
      201,
    );
    const toolsEditor = await h.tokenFor(["editor:tools"], { owner: "tia" });
    const free = await call(
      h,
      "PATCH",
      "/v1/namespaces/tools",
      { variables: { A: "1" } },
      bearer(toolsEditor),
    );
    expect(free.status).toBe(200);
  });
});
