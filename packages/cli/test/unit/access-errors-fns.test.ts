import { describe, expect, it } from "vitest";
import { accessFailure, grantCovering, missingAccess, parseRetryAfter } from "../../src/access-errors-fns.js";
import { errorFromResponse } from "../../src/exit-codes.js";
import { errorAsJson, formatError } from "../../src/output/error-fns.js";

describe("401: which problem the token has, from the error code", () => {
  const from = { tokenSent: true, tokenSource: "NEXUS_TOKEN" };

  it.each([
    ["invalid_token", /does not know your token \(from NEXUS_TOKEN\)/],
    ["token_expired", /your token \(from NEXUS_TOKEN\) has expired/],
    ["token_revoked", /your token \(from NEXUS_TOKEN\) was revoked/],
  ])("%s", (code, message) => {
    const err = errorFromResponse(401, "Unauthorized", { code, message: "server words" }, from);
    expect(err.message).toMatch(message);
    expect(err).toMatchObject({ exitCode: 5, code, status: 401 });
    expect(err.hint).toContain("nexus token create");
  });

  it("says no token was given, and how to give one", () => {
    const failure = accessFailure(401, "unauthenticated", "needs a token", { tokenSent: false });
    expect(failure?.message).toBe("the registry needs a token and none was given");
    expect(failure?.hint).toContain("nexus login");
  });

  it("suspects a proxy when a token was sent but the registry saw none", () => {
    const failure = accessFailure(401, "unauthenticated", "needs a token", {
      tokenSent: true,
      tokenSource: "--token",
    });
    expect(failure?.message).toContain("although your token (from --token) was sent");
    expect(failure?.hint).toContain("proxy");
  });

  it("keeps the server's words for a code it does not know", () => {
    expect(accessFailure(401, "odd", "Something else.")?.message).toBe("not logged in: Something else.");
  });

  it("leaves other statuses alone", () => {
    expect(accessFailure(404, "not_found", "x")).toBeUndefined();
    expect(errorFromResponse(404, "", { code: "nope", message: "No such thing" }).message).toBe(
      "No such thing",
    );
  });
});

describe("403: which role is missing, from the message", () => {
  it("reads role, namespace and environment", () => {
    const msg = "This token lacks the 'editor' role for namespace 'payments', environment 'production'.";
    expect(missingAccess(msg)).toEqual({ role: "editor", namespace: "payments", environment: "production" });
    expect(missingAccess("This token lacks the 'viewer' role for namespace 'shop'.")).toEqual({
      role: "viewer",
      namespace: "shop",
      environment: undefined,
    });
    expect(missingAccess("This token lacks the 'admin' role on every namespace.")).toEqual({
      role: "admin",
      namespace: undefined,
      environment: undefined,
    });
    expect(missingAccess("Go away.")).toBeUndefined();
  });

  it("names the grant that would allow it", () => {
    expect(grantCovering({ role: "editor", namespace: "payments", environment: "production" })).toBe(
      "editor:payments:production",
    );
    expect(grantCovering({ role: "viewer", namespace: "shop" })).toBe("viewer:shop");
    expect(grantCovering({ role: "admin" })).toBe("admin");
  });

  it("says it in plain words with exit 5", () => {
    const err = errorFromResponse(403, "Forbidden", {
      code: "forbidden",
      message: "This token lacks the 'editor' role for namespace 'payments', environment 'production'.",
    });
    expect(err.message).toBe(
      "not allowed: your token lacks the editor role for namespace payments, environment production",
    );
    expect(err.hint).toContain("--grant editor:payments:production");
    expect(err.hint).toContain("nexus whoami");
    expect(err.exitCode).toBe(5);
  });

  it("falls back to the server's words", () => {
    const err = errorFromResponse(403, "Forbidden", { code: "forbidden", message: "Not today." });
    expect(err.message).toBe("not allowed: Not today.");
  });
});

describe("429: how long to wait", () => {
  it("uses Retry-After, keeps exit 1 and gives scripts the seconds", () => {
    const err = errorFromResponse(
      429,
      "Too Many Requests",
      {
        code: "too_many_failed_logins",
        message: "Too many invalid tokens from this address; try again in 17 s.",
      },
      { retryAfterSeconds: 42 },
    );
    expect(err.message).toContain("retry in 42 s");
    expect(err.exitCode).toBe(1);
    expect(errorAsJson(err).error).toMatchObject({ retryAfterSeconds: 42, status: 429 });
    expect(formatError(err)).toContain("code too_many_failed_logins, HTTP 429");
  });

  it("reads the wait from the message when the header is missing", () => {
    const failure = accessFailure(429, "too_many_failed_logins", "try again in 17 s.");
    expect(failure?.message).toContain("retry in 17 s");
    expect(accessFailure(429, "slow_down", "slow down")?.message).toBe(
      "the registry is limiting requests: retry later",
    );
    expect(
      accessFailure(
        429,
        "rate_limited",
        "Too many requests with this token: at most 5 per minute; retry in 1 minute.",
        {
          retryAfterSeconds: 31,
        },
      )?.message,
    ).toBe("your token sent more requests this minute than the registry allows: retry in 31 s");
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("30")).toBe(30);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
    const now = Date.parse("2026-11-22T00:00:00Z");
    expect(parseRetryAfter("Sun, 22 Nov 2026 00:00:10 GMT", now)).toBe(10);
    expect(parseRetryAfter("Sun, 22 Nov 2026 00:00:00 GMT", now + 5000)).toBe(0);
  });
});
