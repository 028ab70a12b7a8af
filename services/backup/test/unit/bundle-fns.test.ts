import { BackupId } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import { copyOutSql, migrationMismatch, newBackupId, restoreOrder } from "../../src/bundle/bundle-fns.js";

const table = (schema: string, name: string, references: string[] = []) => ({
  schema,
  table: name,
  references,
});

describe("bundle functions", () => {
  it("makes backup ids the contract accepts, sorted by time", () => {
    const a = newBackupId("full", new Date("2026-12-06T21:05:01.123Z"), "3f9a2c");
    expect(a).toBe("bk-20261206T210501Z-full-3f9a2c");
    expect(BackupId.safeParse(a).success).toBe(true);
    expect(newBackupId("full", new Date("2026-12-07T00:00:00Z")) > a).toBe(true);
  });

  it("restores parents before the tables that reference them", () => {
    const order = restoreOrder([
      table("r", "revisions", ["r.namespaces"]),
      table("r", "layers", ["r.namespaces", "r.revisions"]),
      table("r", "namespaces"),
      table("r", "tree", ["r.tree"]),
      table("r", "outside", ["other.parent"]),
    ]).map((t) => t.table);
    expect(order.indexOf("namespaces")).toBeLessThan(order.indexOf("revisions"));
    expect(order.indexOf("revisions")).toBeLessThan(order.indexOf("layers"));
    expect(order).toHaveLength(5);
  });

  it("orders rows by the primary key, or every column as text without one", () => {
    expect(
      copyOutSql("s", "t", {
        columns: [{ name: "id", type: "bigint" }],
        orderBy: ["id"],
        orderByText: false,
      }),
    ).toBe('COPY (SELECT "id" FROM "s"."t" ORDER BY "id") TO STDOUT');
    expect(
      copyOutSql("s", "t", {
        columns: [
          { name: "a", type: "jsonb" },
          { name: "b", type: "text" },
        ],
        orderBy: ["a", "b"],
        orderByText: true,
      }),
    ).toBe(
      'COPY (SELECT "a", "b" FROM "s"."t" ORDER BY "a"::text COLLATE "C", "b"::text COLLATE "C") TO STDOUT',
    );
  });

  it("says how a target's migrations differ from the backup's", () => {
    expect(migrationMismatch(["kit:1", "2"], ["kit:1", "2"])).toBeUndefined();
    expect(migrationMismatch(["kit:1", "2"], ["kit:1"])).toBe("the target lacks 2");
    expect(migrationMismatch(["kit:1"], ["kit:1", "3"])).toBe("the target has 3 which the backup predates");
  });
});
