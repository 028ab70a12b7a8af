/**
 * The drift-detector's bodies (src/drift-types.ts): each spec equal to its contract both ways
 * (spec-schema.ts says what that means), and a sample the schema parses passes the spec. The
 * second part checks that the detector documents (so answers with) exactly these schemas.
 */
import { FindingDto, FindingListDto, InstanceDto, InstancesDto } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import { FindingListSpec, FindingSpec, InstanceSpec, InstancesSpec } from "../../src/drift-types.js";
import { mismatch } from "../../src/shape-fns.js";
import { type DocumentedAnswer, itDocuments, itKeepsEachSpecEqual, type SpecPair } from "./spec-schema.js";

const at = "2026-12-07T09:00:00.000Z";
const hash = "a".repeat(64);
const instance = {
  instanceId: "checkout-7f9c",
  service: "checkout",
  revision: 3,
  hash,
  status: "live",
  lastSeenAt: at,
  firstSeenAt: at,
  lag: { revisions: 1, seconds: 40 },
  rejected: { revision: 4, reason: "schema: /pool must be <= 100" },
};
const finding = {
  id: "5f0c2a34-5d0e-4b7f-9d43-2b1c8d1e9a10",
  kind: "policy",
  namespace: "shop",
  environment: "production",
  service: null,
  instanceIds: [],
  expected: { revision: 4, hash },
  actual: { revision: null, hash: null },
  severity: "critical",
  status: "open",
  summary: "production breaks policy tls-required",
  reason: null,
  violations: [
    {
      policyId: "0b6f3c52-3a41-4c8e-8e0a-3f1d2c4b5a69",
      policyName: "tls-required",
      path: "database.ssl",
      rule: "required",
      message: "database.ssl is required",
      severity: "critical",
    },
  ],
  firstSeenAt: at,
  lastSeenAt: at,
  resolvedAt: null,
  resolution: null,
  reopenCount: 0,
  remediationAttempts: 0,
  escalatedAt: null,
};

const pairs: SpecPair[] = [
  ["InstanceDto", InstanceDto, InstanceSpec, instance],
  [
    "InstancesDto",
    InstancesDto,
    InstancesSpec,
    {
      namespace: "shop",
      environment: "production",
      head: { revision: 4, hash, changedAt: at },
      items: [
        instance,
        {
          ...instance,
          instanceId: "checkout-new",
          revision: null,
          hash: null,
          status: "unknown",
          lag: { revisions: null, seconds: null },
          rejected: null,
        },
      ],
    },
  ],
  ["FindingDto", FindingDto, FindingSpec, finding],
  [
    "FindingListDto",
    FindingListDto,
    FindingListSpec,
    { items: [finding, { ...finding, kind: "stale", violations: null, instanceIds: ["checkout-7f9c"] }] },
  ],
];

describe("the CLI's drift-detector specs and @nexus/contracts", () => {
  itKeepsEachSpecEqual(pairs);

  it("an instance list without its head is refused, and one with a nameless head is not noticed", () => {
    const { head: _, ...headless } = pairs[1]![3] as Record<string, unknown>;
    expect(mismatch(headless, InstancesSpec)).toBe("head: missing");
    // What a spec cannot say: a nullable object is checked for being an object only.
    expect(mismatch({ ...headless, head: {} }, InstancesSpec)).toBeUndefined();
  });
});

const documented: DocumentedAnswer[] = [
  ["/v1/namespaces/{ns}/environments/{env}/instances", "get", "200", InstancesDto],
  ["/v1/findings", "get", "200", FindingListDto],
];

describe("the drift-detector's OpenAPI document", () => {
  itDocuments("drift-detector", documented);
});
