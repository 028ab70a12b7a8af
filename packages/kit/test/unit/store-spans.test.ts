import { describe, expect, it } from "vitest";
import { operationOf } from "../../src/tracing/store-spans.js";

describe("the operation a SQL statement names", () => {
  it("is its first keyword, upper-case, after comments and blanks", () => {
    expect(operationOf("select 1")).toBe("SELECT");
    expect(operationOf("\n  WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x")).toBe("WITH");
    expect(operationOf("-- why\n/* more */ UPDATE outbox SET x = 1")).toBe("UPDATE");
    expect(operationOf("SET LOCAL synchronous_commit TO OFF; UPDATE outbox")).toBe("SET");
    expect(operationOf("")).toBe("QUERY");
  });
});
