/**
 * The committed OpenAPI document (`check-openapi` keeps it equal to what the app serves at
 * /docs/json) is valid OpenAPI 3.1: every `$ref` resolves, every schema is valid JSON Schema.
 */
import { readFileSync } from "node:fs";
import { openApiProblems } from "@nexus/test-fixtures";
import { describe, expect, it } from "vitest";

const doc = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));

describe("notifier OpenAPI document", () => {
  it("validates against the OpenAPI 3.1 specification and JSON Schema 2020-12", async () => {
    expect(await openApiProblems(doc)).toEqual([]);
  });

  it("describes the route tree: each node's fields, and its children as routes again", () => {
    for (const name of ["Route", "RouteInput"]) {
      const route = doc.components.schemas[name];
      expect(route, name).toBeDefined();
      expect(route.description).toMatch(/routing tree/);
      expect(Object.keys(route.properties).sort()).toEqual([
        "continue",
        "groupBy",
        "groupIntervalMs",
        "groupWaitMs",
        "matchers",
        "receiver",
        "repeatIntervalMs",
        "routes",
      ]);
      expect(route.properties.routes.items).toEqual({ $ref: `#/components/schemas/${name}` });
      expect(route.additionalProperties).toBe(false);
    }
    const put = doc.paths["/v1/routing"].put.requestBody.content["application/json"].schema;
    expect(put.properties.route).toEqual({ $ref: "#/components/schemas/RouteInput" });
  });
});
