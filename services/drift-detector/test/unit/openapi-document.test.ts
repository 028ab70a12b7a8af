/**
 * The committed OpenAPI document (`check-openapi` keeps it equal to what the app serves at
 * /docs/json) is valid OpenAPI 3.1: every `$ref` resolves, every schema is valid JSON Schema.
 */
import { readFileSync } from "node:fs";
import { openApiProblems } from "@nexus/test-fixtures";
import { describe, expect, it } from "vitest";

const doc = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));

describe("drift-detector OpenAPI document", () => {
  it("validates against the OpenAPI 3.1 specification and JSON Schema 2020-12", async () => {
    expect(await openApiProblems(doc)).toEqual([]);
  });
});
