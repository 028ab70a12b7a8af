import { ValidationError } from "@nexus/kit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertMatchesSchema, compileSchema, type SchemaViolation } from "../../src/documents/schema-fns.js";
import { catchError } from "./app-error-helper.js";

const schema = {
  type: "object",
  required: ["db", "name"],
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1 },
    contact: { type: "string", format: "email" },
    db: {
      type: "object",
      required: ["host", "port"],
      properties: {
        host: { type: "string", format: "hostname" },
        port: { type: "integer", minimum: 1, maximum: 65535 },
        ssl: { type: "boolean" },
      },
    },
    replicas: { type: "array", items: { type: "string", pattern: "^[a-z]+$" } },
    "a/b~c": { type: "number" },
  },
};

const pointers = (violations: SchemaViolation[]) => violations.map((v) => v.pointer);

describe("compileSchema", () => {
  it("accepts a valid document", () => {
    const validate = compileSchema(schema);
    expect(
      validate({ name: "payments", db: { host: "db.internal", port: 5432, ssl: true }, replicas: ["a"] }),
    ).toEqual([]);
  });

  it("reports every failing pointer at once", () => {
    const violations = compileSchema(schema)({
      name: "",
      contact: "not-an-email",
      db: { port: 70000, ssl: "yes" },
      replicas: ["ok", "NOT", 3],
      unknown: 1,
      "a/b~c": "x",
    });
    expect(pointers(violations).sort()).toEqual(
      [
        "/name",
        "/contact",
        "/db/host",
        "/db/port",
        "/db/ssl",
        "/replicas/1",
        "/replicas/2",
        "/unknown",
        "/a~1b~0c",
      ].sort(),
    );
    expect(violations.find((v) => v.pointer === "/db/host")).toMatchObject({ keyword: "required" });
    expect(violations.find((v) => v.pointer === "/unknown")).toMatchObject({
      keyword: "additionalProperties",
    });
    expect(violations.find((v) => v.pointer === "/db/port")).toMatchObject({
      keyword: "maximum",
      message: "must be <= 65535",
    });
    expect(violations.find((v) => v.pointer === "/contact")).toMatchObject({ keyword: "format" });
  });

  it("points required errors at the missing property and uses '' for the root", () => {
    const violations = compileSchema({ type: "object", required: ["a", "x/y"] })({});
    expect(pointers(violations)).toEqual(["/a", "/x~1y"]);
    expect(compileSchema({ type: "object" })([])).toEqual([
      { pointer: "", message: "must be object", keyword: "type" },
    ]);
  });

  it("supports draft-07 and 2019-09 schemas", () => {
    const draft7 = compileSchema({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      definitions: { port: { type: "integer" } },
      properties: { port: { $ref: "#/definitions/port" } },
      dependencies: { tls: ["cert"] },
    });
    expect(pointers(draft7({ port: "x", tls: true })).sort()).toEqual(["/cert", "/port"]);
    const d2019 = compileSchema({
      $schema: "https://json-schema.org/draft/2019-09/schema",
      type: "object",
      properties: { a: { type: "string" } },
      unevaluatedProperties: false,
    });
    expect(pointers(d2019({ a: "x", b: 1 }))).toEqual(["/b"]);
  });

  it("supports 2020-12 keywords", () => {
    const validate = compileSchema({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: { name: { type: "string" } },
      properties: { tuple: { prefixItems: [{ type: "integer" }, { $ref: "#/$defs/name" }], items: false } },
      dependentRequired: { tls: ["cert"] },
    });
    expect(pointers(validate({ tuple: [1, 2, 3], tls: true }))).toEqual(
      expect.arrayContaining(["/tuple/1", "/tuple", "/cert"]),
    );
  });

  it("ignores unknown keywords and unknown formats (strict: false)", () => {
    const validate = compileSchema({
      type: "object",
      "x-secret": true,
      properties: { a: { format: "made-up" } },
    });
    expect(validate({ a: "anything" })).toEqual([]);
  });

  it("never changes the document (no defaults, no coercion)", () => {
    const doc = { n: "5" };
    const validate = compileSchema({
      type: "object",
      properties: { n: { type: "integer" }, d: { default: 1 } },
    });
    expect(pointers(validate(doc))).toEqual(["/n"]);
    expect(doc).toEqual({ n: "5" });
  });

  it("caches validators by schema content", () => {
    const a = compileSchema({ type: "object", properties: { x: { type: "string" } } });
    const b = compileSchema({ properties: { x: { type: "string" } }, type: "object" });
    expect(a).toBe(b);
  });

  it("allows the same $id in different schemas", () => {
    compileSchema({ $id: "https://nexus.example/s", type: "object" });
    const other = compileSchema({ $id: "https://nexus.example/s", type: "object", required: ["a"] });
    expect(pointers(other({}))).toEqual(["/a"]);
  });

  it("accepts boolean schemas", () => {
    expect(compileSchema(true)({ a: 1 })).toEqual([]);
    expect(compileSchema(false)({})).toHaveLength(1);
  });

  describe("invalid schemas", () => {
    it.each([
      ["a wrong type name", { type: "objekt" }, "/type"],
      ["a non-array required", { type: "object", required: "a" }, "/required"],
      ["a bad nested keyword", { properties: { a: { minimum: "x" } } }, "/properties/a/minimum"],
      ["a bad pattern type", { properties: { a: { pattern: 5 } } }, "/properties/a/pattern"],
    ])("refuses %s with its pointer", (_name, bad, pointer) => {
      const err = catchError(() => compileSchema(bad));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.code).toBe("schema_invalid");
      expect(err.statusCode).toBe(422);
      expect((err.details as { errors: SchemaViolation[] }).errors.map((e) => e.pointer)).toContain(pointer);
    });

    it("refuses unresolvable $refs (never fetched)", () => {
      const err = catchError(() => compileSchema({ $ref: "https://example.com/remote.json" }));
      expect(err.code).toBe("schema_invalid");
      expect(err.message).toContain("can't resolve reference");
      expect(catchError(() => compileSchema({ properties: { a: { $ref: "#/$defs/missing" } } })).code).toBe(
        "schema_invalid",
      );
    });

    it("refuses an invalid regular expression", () => {
      expect(catchError(() => compileSchema({ type: "string", pattern: "([a-z" })).code).toBe(
        "schema_invalid",
      );
    });

    it("refuses unsupported $schema and non-schemas", () => {
      const err = catchError(() => compileSchema({ $schema: "http://json-schema.org/draft-04/schema#" }));
      expect(err.code).toBe("schema_invalid");
      expect(err.field).toBe("/$schema");
      for (const bad of [null, 5, "string", [1]])
        expect(catchError(() => compileSchema(bad)).code).toBe("schema_invalid");
    });
  });
});

describe("assertMatchesSchema", () => {
  it("throws schema_violation with the first pointer and every violation", () => {
    const err = catchError(() => assertMatchesSchema(schema, { db: { host: "h", port: 0 } }));
    expect(err.code).toBe("schema_violation");
    expect(err.statusCode).toBe(422);
    const violations = (err.details as { violations: SchemaViolation[] }).violations;
    expect(pointers(violations).sort()).toEqual(["/db/port", "/name"]);
    expect(err.field).toBe(violations[0]?.pointer);
    expect(err.message).toContain("and 1 more");
    expect(() => assertMatchesSchema(schema, { name: "n", db: { host: "h", port: 1 } })).not.toThrow();
  });
});

describe("property", () => {
  it("an integer range schema accepts exactly the integers in range", () => {
    const validate = compileSchema({
      type: "object",
      properties: { n: { type: "integer", minimum: -10, maximum: 10 } },
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -50, max: 50 }),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.string(),
        ),
        (n) => {
          const ok = typeof n === "number" && Number.isInteger(n) && n >= -10 && n <= 10;
          expect(validate({ n }).length === 0).toBe(ok);
        },
      ),
    );
  });
});
