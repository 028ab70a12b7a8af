import { describe, expect, it } from "vitest";
import { assertSubjectMatchesBody } from "../../src/bus/command-target.js";
import { AppError } from "../../src/errors.js";

function catchError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error("expected an error");
}

const ROOT = "t1.config.cmd.get";
const target = (environment: string, namespace: string) =>
  [
    ["environment", environment],
    ["namespace", namespace],
  ] as const;

describe("assertSubjectMatchesBody", () => {
  it("accepts a body naming the subject's environment and namespace", () => {
    expect(() =>
      assertSubjectMatchesBody(ROOT, `${ROOT}.production.payments-api`, target("production", "payments-api")),
    ).not.toThrow();
  });

  it("names the first field that differs", () => {
    const ns = catchError(() =>
      assertSubjectMatchesBody(ROOT, `${ROOT}.production.payments-api`, target("production", "orders")),
    );
    expect(ns).toMatchObject({ statusCode: 400, code: "subject_mismatch", field: "namespace" });
    expect(ns.message).toContain('"payments-api"');
    const env = catchError(() =>
      assertSubjectMatchesBody(ROOT, `${ROOT}.staging.payments-api`, target("production", "orders")),
    );
    expect(env).toMatchObject({ code: "subject_mismatch", field: "environment" });
  });

  it("refuses subjects with too few or too many tokens, or under another root", () => {
    for (const subject of [
      ROOT,
      `${ROOT}.production`,
      `${ROOT}.production.payments-api.x`,
      "t2.config.cmd.get.a.b",
    ]) {
      const err = catchError(() =>
        assertSubjectMatchesBody(ROOT, subject, target("production", "payments-api")),
      );
      expect(err).toMatchObject({ statusCode: 400, code: "subject_mismatch", field: "subject" });
      expect(err.message).toContain(`${ROOT}.<environment>.<namespace>`);
    }
  });
});
