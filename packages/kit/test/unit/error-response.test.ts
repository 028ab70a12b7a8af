import { describe, expect, it } from "vitest";
import { formatBytes, toErrorResponse } from "../../src/http/error-handler.js";

describe("error responses", () => {
  it("answers a transaction Postgres gave up (deadlock, serialization failure) with a retryable 409", () => {
    for (const code of ["40P01", "40001"]) {
      const failure = Object.assign(new Error("deadlock detected: Process 12 waits for ShareLock"), { code });
      const { status, body, expected } = toErrorResponse(failure, "req-1");
      expect({ status, expected, code: body.error.code }).toEqual({
        status: 409,
        expected: true,
        code: "concurrent_change",
      });
      expect(body.error.message).not.toContain("Process 12");
    }
  });

  it("answers any other database error with a generic 500 that quotes the request id", () => {
    const failure = Object.assign(new Error('relation "secret_table" does not exist'), { code: "42P01" });
    const { status, body } = toErrorResponse(failure, "req-2");
    expect(status).toBe(500);
    expect(body.error).toMatchObject({ code: "internal_error", requestId: "req-2" });
    expect(JSON.stringify(body)).not.toContain("secret_table");
  });
});

describe("a body over the limit", () => {
  it("is a 413 whose message states the route's limit in plain units", () => {
    const tooLarge = Object.assign(new Error("Request body is too large"), {
      code: "FST_ERR_CTP_BODY_TOO_LARGE",
      statusCode: 413,
    });
    const { status, body } = toErrorResponse(tooLarge, "req-3", { bodyLimit: 1024 * 1024 });
    expect(status).toBe(413);
    expect(body.error.message).toBe("The body is larger than allowed: at most 1 MiB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5 MiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(300)).toBe("300 bytes");
  });
});
