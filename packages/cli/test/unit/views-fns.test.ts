import pc from "picocolors";
import { describe, expect, it } from "vitest";
import type { Namespace, Resolved, WriteResult } from "../../src/api-types.js";
import { declaresQueryParam, RESOLVED_PATH } from "../../src/capabilities-fns.js";
import { renderFields, renderTable, shortHash, shortTime } from "../../src/output/table-fns.js";
import {
  explainTable,
  historyTable,
  namespaceFields,
  namespaceTable,
  resolvedHeader,
  writeResultLine,
} from "../../src/output/views-fns.js";

const plain = pc.createColors(false);
const colored = pc.createColors(true);

const ns: Namespace = {
  name: "shop",
  description: "The shop",
  owners: ["alice", "bob"],
  environments: ["development", "production"],
  variables: { REGION: "eu" },
  headRevision: 4,
  createdAt: "2025-01-02T03:04:05.678Z",
  updatedAt: "2025-01-03T03:04:05.678Z",
};

describe("tables", () => {
  it("aligns columns without borders or trailing spaces", () => {
    const text = renderTable(
      ["name", "n"],
      [
        ["a", 1],
        ["longer", null],
      ],
      plain,
    );
    expect(text).toBe("NAME    N\na       1\nlonger\n");
  });

  it("makes headers bold only when colours are on", () => {
    expect(renderTable(["x"], [["1"]], colored)).toContain(colored.bold("X"));
    expect(renderTable(["x"], [["1"]], plain)).not.toContain("\u001b[");
  });

  it("aligns field labels", () => {
    expect(
      renderFields(
        [
          ["a", 1],
          ["long label", "v"],
        ],
        plain,
      ),
    ).toBe("a           1\nlong label  v\n");
  });

  it("shortens times and hashes", () => {
    expect(shortTime("2025-01-02T03:04:05.678Z")).toBe("2025-01-02 03:04:05Z");
    expect(shortTime(null)).toBe("-");
    expect(shortTime("garbage")).toBe("garbage");
    expect(shortHash("a".repeat(64))).toBe("a".repeat(12));
  });
});

describe("views", () => {
  it("lists namespaces, or says there are none", () => {
    const text = namespaceTable([ns], plain);
    expect(text.split("\n")[0]).toMatch(/^NAME\s+ENVIRONMENTS\s+OWNERS\s+REVISION\s+DESCRIPTION$/);
    expect(text).toMatch(/shop\s+development, production\s+alice, bob\s+4\s+The shop/);
    expect(namespaceTable([], plain)).toContain("nexus ns create");
  });

  it("shows one namespace with its variables", () => {
    const text = namespaceFields(ns, plain);
    expect(text).toMatch(/^owners\s+alice, bob$/m);
    expect(text).toMatch(/^REGION\s+eu$/m);
  });

  it("describes a write, and a write that changed nothing", () => {
    const r: WriteResult = {
      namespace: "shop",
      layer: "base",
      revision: 5,
      previousRevision: 3,
      hash: "h",
      changed: true,
      changedEnvironments: ["production"],
    };
    expect(writeResultLine(r, plain)).toBe(
      "shop/base: revision 5 (was 3); resolved config changed in production\n",
    );
    expect(writeResultLine({ ...r, changedEnvironments: [] }, plain)).toContain(
      "no environment's resolved config",
    );
    expect(writeResultLine({ ...r, changed: false, revision: 3 }, plain)).toBe(
      "shop/base: unchanged (the content equals revision 3); nothing written\n",
    );
  });

  it("lists history newest first as given", () => {
    const text = historyTable(
      [
        {
          namespace: "shop",
          revision: 2,
          layer: "base",
          hash: "b".repeat(64),
          author: "ann",
          message: "more",
          source: "rollback:1",
          createdAt: "2025-01-02T03:04:05Z",
        },
      ],
      plain,
    );
    expect(text).toMatch(/^2\s+2025-01-02 03:04:05Z\s+ann\s+rollback:1\s+bbbbbbbbbbbb\s+more$/m);
    expect(historyTable([], plain)).toBe("No revisions yet.\n");
  });

  it("explains each key, sorted, with its layer, revision and references", () => {
    const resolved: Resolved = {
      namespace: "shop",
      environment: "production",
      revision: 7,
      hash: "c".repeat(64),
      content: {},
      explain: {
        "/z": { layer: "production", revision: 7, value: 1 },
        "/a": { layer: "base", revision: null, value: "x", references: ["env:REGION"] },
      },
    };
    const lines = explainTable(resolved, plain).split("\n");
    expect(lines[0]).toBe(resolvedHeader(resolved));
    expect(lines[0]).toBe("# shop/production · revision 7 · sha256 cccccccccccc");
    expect(lines[2]).toMatch(/^\/a\s+"x"\s+base\s+-\s+env:REGION$/);
    expect(lines[3]).toMatch(/^\/z\s+1\s+production\s+7$/);
  });
});

describe("declaresQueryParam", () => {
  const doc = (params: unknown) => ({ paths: { [RESOLVED_PATH]: { get: { parameters: params } } } });
  it("finds a declared query parameter and nothing else", () => {
    expect(
      declaresQueryParam(doc([{ in: "query", name: "revision" }]), RESOLVED_PATH, "GET", "revision"),
    ).toBe(true);
    expect(
      declaresQueryParam(doc([{ in: "path", name: "revision" }]), RESOLVED_PATH, "get", "revision"),
    ).toBe(false);
    expect(
      declaresQueryParam(doc([{ in: "query", name: "explain" }]), RESOLVED_PATH, "get", "revision"),
    ).toBe(false);
    expect(declaresQueryParam(null, RESOLVED_PATH, "get", "revision")).toBe(false);
    expect(declaresQueryParam({ paths: [] }, RESOLVED_PATH, "get", "revision")).toBe(false);
  });
});
