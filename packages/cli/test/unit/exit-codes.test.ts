import { describe, expect, it } from "vitest";
import {
  CliError,
  ExitCode,
  errorFromResponse,
  exitCodeForCommander,
  exitCodeForStatus,
  localValidationError,
  usageError,
  withHint,
} from "../../src/exit-codes.js";

describe("exit codes", () => {
  it("are the documented numbers", () => {
    expect(ExitCode).toEqual({
      ok: 0,
      error: 1,
      usage: 2,
      conflict: 3,
      validation: 4,
      access: 5,
      pendingApproval: 6,
    });
  });

  it.each([
    [400, 4],
    [413, 4],
    [422, 4],
    [409, 3],
    [412, 3],
    [401, 5],
    [403, 5],
    [404, 1],
    [415, 1],
    [429, 1],
    [500, 1],
    [502, 1],
    [503, 1],
  ])("HTTP %i exits %i", (status, code) => {
    expect(exitCodeForStatus(status)).toBe(code);
  });

  it("maps commander's own exits: help and version are success, anything else is usage", () => {
    expect(exitCodeForCommander(0)).toBe(ExitCode.ok);
    expect(exitCodeForCommander(1)).toBe(ExitCode.usage);
  });

  it("keeps the server's code, field, request id and details", () => {
    const err = errorFromResponse(422, "Unprocessable Entity", {
      code: "schema_violation",
      message: "breaks the schema at /a",
      field: "/a",
      requestId: "req-1",
      details: { violations: [{ pointer: "/a", message: "must be integer" }] },
    });
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({
      exitCode: 4,
      code: "schema_violation",
      field: "/a",
      status: 422,
      requestId: "req-1",
      message: "breaks the schema at /a",
    });
    expect(err.details).toEqual({ violations: [{ pointer: "/a", message: "must be integer" }] });
  });

  it("describes a response without an error body by its status", () => {
    const err = errorFromResponse(502, "Bad Gateway", undefined);
    expect(err.message).toContain("HTTP 502 Bad Gateway");
    expect(err).toMatchObject({ code: "http_502", exitCode: 1 });
    expect(err.hint).toMatch(/request id/);
  });

  it("hints at re-fetching on a revision conflict", () => {
    const err = errorFromResponse(409, "Conflict", { code: "revision_conflict", message: "moved on" });
    expect(err.exitCode).toBe(3);
    expect(err.hint).toMatch(/again/);
  });

  it("has helpers for usage and local validation errors", () => {
    expect(usageError("bad", "url")).toMatchObject({ exitCode: 2, code: "usage", field: "url" });
    expect(localValidationError("bad yaml")).toMatchObject({ exitCode: 4, code: "invalid_document" });
  });

  it("replaces only the hint with withHint", () => {
    const err = errorFromResponse(409, "Conflict", {
      code: "revision_conflict",
      message: "m",
      field: "If-Match",
    });
    const hinted = withHint(err, "kept in /tmp/x");
    expect(hinted).toMatchObject({ exitCode: 3, code: "revision_conflict", field: "If-Match", status: 409 });
    expect(hinted.hint).toBe("kept in /tmp/x");
  });
});
