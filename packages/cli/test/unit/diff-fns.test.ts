import pc from "picocolors";
import { describe, expect, it } from "vitest";
import {
  describeOperations,
  diffDocuments,
  entriesAsJson,
  formatValue,
  renderDiffLines,
} from "../../src/output/diff-fns.js";

const plain = pc.createColors(false);
const colored = pc.createColors(true);

describe("describeOperations", () => {
  it("pairs each change with the value it replaces or removes", () => {
    const before = { db: { pool: 10, host: "a" }, level: "info", old: true };
    const after = { db: { pool: 20, host: "a" }, level: "info", added: [1] };
    const entries = describeOperations(diffDocuments(before, after), before);
    expect(entriesAsJson(entries)).toEqual(
      expect.arrayContaining([
        { op: "replace", path: "/db/pool", before: 10, after: 20 },
        { op: "remove", path: "/old", before: true },
        { op: "add", path: "/added", after: [1] },
      ]),
    );
    expect(entries).toHaveLength(3);
  });

  it("applies operations in order, so array removals show the right old values", () => {
    const before = { list: ["a", "b", "c", "d"] };
    const ops = [
      { op: "remove", path: "/list/3" },
      { op: "remove", path: "/list/1" },
    ];
    expect(entriesAsJson(describeOperations(ops, before))).toEqual([
      { op: "remove", path: "/list/3", before: "d" },
      { op: "remove", path: "/list/1", before: "b" },
    ]);
  });

  it("stops looking up old values once an operation does not apply, without failing", () => {
    const ops = [
      { op: "remove", path: "/missing/x" },
      { op: "replace", path: "/a", value: 2 },
    ];
    expect(entriesAsJson(describeOperations(ops, { a: 1 }))).toEqual([
      { op: "remove", path: "/missing/x" },
      { op: "replace", path: "/a", after: 2 },
    ]);
    const after = describeOperations(
      [
        { op: "add", path: "/x/y/z", value: 1 },
        { op: "replace", path: "/a", value: 3 },
      ],
      { a: 1 },
    );
    expect(after[1]).toMatchObject({ hasBefore: false, after: 3 });
  });

  it("describes move and copy with their source and drops test operations", () => {
    const entries = describeOperations(
      [
        { op: "test", path: "/a", value: 1 },
        { op: "move", from: "/a", path: "/b" },
      ],
      { a: 1 },
    );
    expect(entriesAsJson(entries)).toEqual([{ op: "move", path: "/b", from: "/a", after: 1 }]);
  });

  it("works without a base document (no old values)", () => {
    expect(entriesAsJson(describeOperations([{ op: "replace", path: "/a", value: 1 }], undefined))).toEqual([
      { op: "replace", path: "/a", after: 1 },
    ]);
  });
});

describe("renderDiffLines", () => {
  const entries = describeOperations(
    [
      { op: "replace", path: "/pool", value: 20 },
      { op: "remove", path: "/old" },
      { op: "add", path: "/new", value: "x" },
    ],
    { pool: 10, old: "gone" },
  );

  it("writes + - ~ lines with JSON values", () => {
    expect(renderDiffLines(entries, plain, "  ")).toEqual([
      "  ~ /pool: 10 → 20",
      '  - /old: "gone"',
      '  + /new: "x"',
    ]);
  });

  it("colours additions green and removals red when colours are on", () => {
    const [replace, remove, add] = renderDiffLines(entries, colored);
    expect(add).toBe(colored.green('+ /new: "x"'));
    expect(remove).toBe(colored.red('- /old: "gone"'));
    expect(replace).toContain(colored.red("10"));
    expect(replace).toContain(colored.green("20"));
    expect(add).toContain("\u001b[32m");
  });

  it("names the root and absent values plainly", () => {
    expect(
      renderDiffLines(describeOperations([{ op: "replace", path: "", value: {} }], undefined), plain),
    ).toEqual(["~ (root): {}"]);
    expect(formatValue(undefined)).toBe("(absent)");
    expect(formatValue("1")).toBe('"1"');
  });
});
