import { readFileSync } from "node:fs";
import { PendingChangeBody } from "@nexus/contracts";
import pc from "picocolors";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { PendingChangeSpec } from "../../src/api-types.js";
import { pendingChangeText } from "../../src/output/views-fns.js";
import { mismatch } from "../../src/shape-fns.js";

const registryOpenApi = JSON.parse(
  readFileSync(new URL("../../../../services/config-registry/openapi.json", import.meta.url), "utf8"),
);

const sample: PendingChangeBody = {
  changeRequest: {
    id: "5f0c2a34-5d0e-4b7f-9d43-2b1c8d1e9a10",
    namespace: "shop",
    layer: "production",
    kind: "replace",
    content: { pool: 50 },
    baseRevision: 2,
    message: "more",
    author: "ed",
    status: "pending",
    createdAt: "2026-12-06T21:00:00.000Z",
    decidedBy: null,
    decidedAt: null,
    comment: "",
    revision: null,
  },
  message:
    "shop/production is protected: your change waits as change request 5f0c… for an approver other than you.",
};

describe("the 202 of a gated write", () => {
  it("is the shape @nexus/contracts declares and the registry documents for PUT, PATCH and rollback", () => {
    const documented = z.toJSONSchema(PendingChangeBody, { target: "draft-2020-12" }) as Record<
      string,
      unknown
    >;
    delete documented.$schema;
    const layer = registryOpenApi.paths["/v1/namespaces/{ns}/layers/{layer}"];
    const rollback = registryOpenApi.paths["/v1/namespaces/{ns}/layers/{layer}/rollback"];
    for (const op of [layer.put, layer.patch, rollback.post]) {
      expect(op.responses["202"].content["application/json"].schema).toEqual(documented);
    }
  });

  it("is checked by the CLI's spec, which names every field of the contract", () => {
    expect(mismatch(PendingChangeBody.parse(sample), PendingChangeSpec)).toBeUndefined();
    expect(Object.keys(PendingChangeSpec.changeRequest).sort()).toEqual(
      Object.keys(PendingChangeBody.shape.changeRequest.shape).sort(),
    );
    expect(
      mismatch({ ...sample, changeRequest: { ...sample.changeRequest, id: 7 } }, PendingChangeSpec),
    ).toBe("changeRequest.id: expected string, got number");
  });

  it("reads as what happened, the id, and the call that approves it", () => {
    const text = pendingChangeText(sample, "http://registry:4100", pc.createColors(false));
    expect(text).toContain(
      "shop/production: change request 5f0c2a34-5d0e-4b7f-9d43-2b1c8d1e9a10 opened; nothing is written until an approver approves it.",
    );
    expect(text).toContain(
      `-d '{"comment":""}' http://registry:4100/v1/change-requests/5f0c2a34-5d0e-4b7f-9d43-2b1c8d1e9a10/approve`,
    );
  });
});
