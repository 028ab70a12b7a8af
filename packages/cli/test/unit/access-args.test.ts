import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import {
  grantRefusal,
  nonNegativeInt,
  parseActor,
  parseResource,
  parseTimeBound,
  tokenIdOf,
} from "../../src/commands/access-args.js";
import { CliError, errorFromResponse } from "../../src/exit-codes.js";

describe("tokenIdOf", () => {
  it("takes 16 hex characters", () => {
    expect(tokenIdOf("0123456789abcdef")).toBe("0123456789abcdef");
  });

  it("refuses a pasted token without repeating it", () => {
    const secret = "nxs_0123456789abcdef_c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw";
    let err: unknown;
    try {
      tokenIdOf(secret);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    const cli = err as CliError;
    expect(cli.exitCode).toBe(2);
    expect(cli.message).toBe("that is a token, not a token id");
    expect(`${cli.message} ${cli.hint}`).not.toContain("c2VjcmV0");
  });

  it("refuses anything else as usage", () => {
    expect(() => tokenIdOf("abc")).toThrow(/16 hex characters/);
  });
});

describe("parseTimeBound", () => {
  const now = Date.parse("2026-11-22T12:00:00.000Z");
  it("reads ISO dates and times", () => {
    expect(parseTimeBound("2026-11-21T10:00:00Z", now)).toBe("2026-11-21T10:00:00.000Z");
    expect(parseTimeBound("2026-11-21T10:00:00+02:00", now)).toBe("2026-11-21T08:00:00.000Z");
    expect(parseTimeBound("2026-11-21", now)).toBe("2026-11-21T00:00:00.000Z");
  });

  it("reads spans back from now", () => {
    expect(parseTimeBound("30m", now)).toBe("2026-11-22T11:30:00.000Z");
    expect(parseTimeBound("2h", now)).toBe("2026-11-22T10:00:00.000Z");
    expect(parseTimeBound("7d", now)).toBe("2026-11-15T12:00:00.000Z");
    expect(parseTimeBound("90s", now)).toBe("2026-11-22T11:58:30.000Z");
  });

  it.each(["yesterday", "2026-13-45", "5w", ""])("refuses %j", (value) => {
    expect(() => parseTimeBound(value, now)).toThrow(InvalidArgumentError);
  });
});

describe("audit filters", () => {
  it("expands a bare token id to the audit log's actor name", () => {
    expect(parseActor("0123456789abcdef")).toBe("token:0123456789abcdef");
    expect(parseActor("oidc:u-1")).toBe("oidc:u-1");
    expect(parseActor("anonymous")).toBe("anonymous");
    expect(() => parseActor(" ")).toThrow(InvalidArgumentError);
  });

  it("wants a path for --resource", () => {
    expect(parseResource("/v1/namespaces/shop")).toBe("/v1/namespaces/shop");
    expect(() => parseResource("namespaces/shop")).toThrow(/\/v1\/namespaces\/payments/);
  });

  it("reads --after", () => {
    expect(nonNegativeInt("0")).toBe(0);
    expect(nonNegativeInt("42")).toBe(42);
    expect(() => nonNegativeInt("-1")).toThrow(InvalidArgumentError);
  });
});

describe("grantRefusal", () => {
  const refused = errorFromResponse(422, "Unprocessable Entity", {
    code: "invalid_grant",
    message: "'editr:shop' is not a grant: write role[:namespacePattern[:environmentPattern]], ...",
    field: "grants.1",
  });

  it("names the --grant the registry refused, keeping exit 4 and the field", () => {
    const err = grantRefusal(refused, ["viewer", "editr:shop"]) as CliError;
    expect(err.message).toBe('--grant "editr:shop" is not a grant');
    expect(err).toMatchObject({ exitCode: 4, code: "invalid_grant", field: "grants.1", status: 422 });
    expect(err.hint).toContain("viewer, editor, approver, secret-reader, admin");
  });

  it("passes other errors through", () => {
    const other = errorFromResponse(403, "", { code: "forbidden", message: "no" });
    expect(grantRefusal(other, ["viewer"])).toBe(other);
    expect(grantRefusal(refused, [])).toBe(refused);
    const plain = new Error("boom");
    expect(grantRefusal(plain, ["x"])).toBe(plain);
  });
});
