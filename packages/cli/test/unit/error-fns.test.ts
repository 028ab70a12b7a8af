import { describe, expect, it } from "vitest";
import { CliError, ExitCode, errorFromResponse } from "../../src/exit-codes.js";
import { asCliError, errorAsJson, formatError, violationsOf } from "../../src/output/error-fns.js";

describe("formatError", () => {
  it("says what failed, the field, the server's code, status and request id, and a hint", () => {
    const err = errorFromResponse(409, "Conflict", {
      code: "revision_conflict",
      message: "Layer shop/base is at revision 3, not 2",
      field: "If-Match",
      requestId: "req-9",
    });
    const text = formatError(err);
    expect(text).toBe(
      [
        "error: Layer shop/base is at revision 3, not 2",
        "  field: If-Match",
        "  (code revision_conflict, HTTP 409, request id req-9)",
        `hint: ${err.hint}`,
        "",
      ].join("\n"),
    );
  });

  it("lists every schema violation by JSON pointer", () => {
    const err = errorFromResponse(422, "", {
      code: "schema_violation",
      message: "breaks its JSON Schema at /a",
      field: "/a",
      details: {
        violations: [
          { pointer: "/a", message: "must be integer", keyword: "type" },
          { pointer: "/b/c", message: "must be <= 5", keyword: "maximum" },
        ],
      },
    });
    const text = formatError(err);
    expect(text).toContain("  field: /a\n");
    expect(text).toContain("  /a: must be integer\n");
    expect(text).toContain("  /b/c: must be <= 5\n");
  });

  it("reads the registry's request-validation issues too", () => {
    expect(violationsOf({ in: "body", issues: [{ field: "name", message: "too long" }] })).toEqual([
      { pointer: "name", message: "too long" },
    ]);
    expect(violationsOf("nothing")).toEqual([]);
  });

  it("gives scripts the same facts as JSON", () => {
    const err = new CliError("no registry configured", {
      exitCode: ExitCode.usage,
      code: "usage",
      field: "url",
    });
    expect(errorAsJson(err)).toEqual({
      error: { code: "usage", message: "no registry configured", exitCode: 2, field: "url" },
    });
  });

  it("turns anything else thrown into an internal error with exit 1", () => {
    const err = asCliError(new TypeError("boom"));
    expect(err).toMatchObject({ exitCode: 1, code: "internal" });
    expect(err.message).toContain("boom");
    const same = new CliError("x", { exitCode: 3, code: "c" });
    expect(asCliError(same)).toBe(same);
  });
});
