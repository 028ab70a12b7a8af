import { parse as parseDotenv } from "dotenv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseContent, serializeContent } from "../../src/documents/content-fns.js";
import { catchError } from "./app-error-helper.js";

describe("serializeContent", () => {
  const doc = {
    name: "payments",
    db: { host: "db.internal", port: 5432, "max-conns": 10, tags: ["a", "b"], opts: {} },
    day: "2024-01-01",
    flag: "yes",
    nothing: null,
  };

  it("writes indented JSON", () => {
    const out = serializeContent(doc, "json");
    expect(out.endsWith("}\n")).toBe(true);
    expect(JSON.parse(out)).toEqual(doc);
  });

  it("writes YAML that reads back the same, quoting YAML 1.1 lookalikes", () => {
    const out = serializeContent(doc, "yaml");
    expect(out).toContain('flag: "yes"');
    expect(out).toContain('day: "2024-01-01"');
    expect(out).not.toContain("&");
    expect(parseContent(out, "application/yaml")).toEqual(doc);
  });

  it("quotes a string in YAML 1.2's octal form, which the 1.2 reader would take for a number", () => {
    const octal = { mode: "0o755", nested: { "": "0o0" } };
    const out = serializeContent(octal, "yaml");
    expect(out).toContain('mode: "0o755"');
    expect(parseContent(out, "application/yaml")).toEqual(octal);
  });

  it("quotes a key named << so it is not read back as a merge key", () => {
    const tricky = { "<<": { a: 1 }, b: "<<", "~": "null", on: "off", "": "" };
    expect(parseContent(serializeContent(tricky, "yaml"), "application/yaml")).toEqual(tricky);
  });

  it("property: YAML and JSON output read back the same document", () => {
    const doc = fc
      .dictionary(
        fc.oneof(
          fc.string({ maxLength: 8 }),
          fc.constantFrom("<<", "yes", "~", "null", "0x1f", "1e3", ".inf"),
        ),
        fc.jsonValue({ maxDepth: 3 }),
        { maxKeys: 6 },
      )
      .map((d) => JSON.parse(JSON.stringify(d)) as Record<string, unknown>)
      // Reserved keys are refused on the way in (input guards), so no stored document has them.
      .filter((d) => !/"(__proto__|constructor|prototype)":/.test(JSON.stringify(d)));
    fc.assert(
      fc.property(doc, (d) => {
        expect(parseContent(serializeContent(d, "yaml"), "application/yaml")).toEqual(d);
        expect(parseContent(serializeContent(d, "json"), "application/json")).toEqual(d);
      }),
      { numRuns: 300 },
    );
  });

  it("flattens to .env with _ joins, upper case, JSON for non-strings", () => {
    const out = serializeContent(doc, "env");
    expect(out.split("\n")).toEqual([
      "NAME=payments",
      "DB_HOST=db.internal",
      "DB_PORT=5432",
      "DB_MAX_CONNS=10",
      `DB_TAGS='["a","b"]'`,
      "DB_OPTS='{}'",
      "DAY=2024-01-01",
      "FLAG=yes",
      "NOTHING=null",
      "",
    ]);
    expect(parseDotenv(out)).toMatchObject({ DB_TAGS: '["a","b"]', DB_PORT: "5432" });
  });

  it("quotes .env values so dotenv reads them back exactly", () => {
    const values = {
      spaces: "a b",
      hash: "x # y",
      newline: "line1\nline2",
      single: "it's",
      both: `it's "quoted"`,
      dollar: "$HOME",
      lead: "  padded  ",
      empty: "",
    };
    const parsed = parseDotenv(serializeContent(values, "env"));
    expect(parsed).toEqual({
      SPACES: "a b",
      HASH: "x # y",
      NEWLINE: "line1\nline2",
      SINGLE: "it's",
      BOTH: `it's "quoted"`,
      DOLLAR: "$HOME",
      LEAD: "  padded  ",
      EMPTY: "",
    });
  });

  it("writes .env values that read back the same next to their neighbours", () => {
    // A quoted value ending in a backslash reads back alone, but swallowed the next line.
    const values = { a: "\\", aa: "#", b: "ends with \\", c: "plain" };
    const text = serializeContent(values, "env");
    expect(parseDotenv(text)).toEqual({ A: "\\", AA: "#", B: "ends with \\", C: "plain" });
  });

  it("property: .env output of string values reads back, or is refused with the pointer", () => {
    const doc = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), fc.string({ maxLength: 6 }), {
      maxKeys: 5,
    });
    fc.assert(
      fc.property(doc, (d) => {
        let text: string;
        try {
          text = serializeContent(d, "env");
        } catch (err) {
          expect((err as { code: string }).code).toBe("env_value_unrepresentable");
          return;
        }
        const expected = Object.fromEntries(Object.entries(d).map(([k, v]) => [k.toUpperCase(), v]));
        expect(parseDotenv(text)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses .env name collisions and unusable names", () => {
    const err = catchError(() => serializeContent({ a: { b: 1 }, a_b: 2 }, "env"));
    expect(err.code).toBe("env_key_collision");
    expect(err.details).toMatchObject({ name: "A_B", pointers: ["/a/b", "/a_b"] });
    expect(catchError(() => serializeContent({ "": 1 }, "env")).code).toBe("env_key_invalid");
  });

  it("writes nothing for an empty document", () => {
    expect(serializeContent({}, "env")).toBe("");
    expect(serializeContent({}, "json")).toBe("{}\n");
    expect(parseContent(serializeContent({}, "yaml"), "application/yaml")).toEqual({});
  });
});
