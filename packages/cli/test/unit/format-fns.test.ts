import { parse as parseDotenv } from "dotenv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CliError } from "../../src/exit-codes.js";
import {
  detectInputFormat,
  jsonEqual,
  mediaTypeOf,
  parseFormat,
  readYamlDocument,
  renderDocument,
  toPointer,
} from "../../src/output/format-fns.js";

function failure(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error("expected a CliError");
}

describe("detectInputFormat", () => {
  it.each([
    ["c.json", "", "json"],
    ["c.YAML", "", "yaml"],
    ["c.yml", "", "yaml"],
    ["prod.env", "", "env"],
    [".env.production", "", "env"],
    ["-", '  {"a": 1}', "json"],
    ["-", "A=1\n# comment\nexport B_C=two\n", "env"],
    ["-", "a: 1\nb: [x]\n", "yaml"],
    ["-", "", "yaml"],
    ["notes.txt", "url: http://x?a=b\n", "yaml"],
  ])("%s with %j → %s", (path, text, expected) => {
    expect(detectInputFormat(path, text)).toBe(expected);
  });

  it("lets --format win over the file name", () => {
    expect(detectInputFormat("c.json", "a: 1", "yaml")).toBe("yaml");
  });
});

describe("formats", () => {
  it("parses names and aliases, refusing others", () => {
    expect(parseFormat("YML")).toBe("yaml");
    expect(parseFormat("dotenv")).toBe("env");
    expect(failure(() => parseFormat("env", ["json", "yaml"])).exitCode).toBe(2);
    expect(failure(() => parseFormat("toml")).message).toContain("json, yaml, env");
  });

  it("sends the media types the registry accepts", () => {
    expect(mediaTypeOf("json")).toBe("application/json");
    expect(mediaTypeOf("yaml")).toBe("application/yaml");
    expect(mediaTypeOf("env")).toBe("application/x-env");
  });
});

describe("renderDocument", () => {
  const doc = {
    database: { host: "db", "max-conns": 5, ssl: true },
    flag: "yes",
    day: "2024-01-01",
    list: [1, "a"],
  };

  it("renders JSON indented with a final newline", () => {
    expect(renderDocument({ a: 1 }, "json")).toBe('{\n  "a": 1\n}\n');
  });

  it("renders YAML in block style, quoting strings a YAML 1.1 reader would misread", () => {
    const text = renderDocument(doc, "yaml");
    expect(text).toContain("database:\n  host: db\n");
    expect(text).toContain('flag: "yes"');
    expect(text).toContain('day: "2024-01-01"');
    expect(text).toContain("list:\n  - 1\n  - a\n");
  });

  it("renders .env lines with flattened, upper-cased names", () => {
    expect(renderDocument(doc, "env")).toBe(
      [
        "DATABASE_HOST=db",
        "DATABASE_MAX_CONNS=5",
        "DATABASE_SSL=true",
        "FLAG=yes",
        "DAY=2024-01-01",
        "LIST='[1,\"a\"]'",
        "",
      ].join("\n"),
    );
    expect(renderDocument({}, "env")).toBe("");
  });

  it("refuses .env for keys that collide once flattened, naming both", () => {
    const err = failure(() => renderDocument({ a: { b: 1 }, a_b: 2 }, "env"));
    expect(err.message).toContain("/a/b and /a_b");
    expect(err.field).toBe("/a_b");
    expect(err.exitCode).toBe(1);
  });

  it("quotes .env values so dotenv reads back exactly the same string", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), fc.string()), (d) => {
        let text: string;
        try {
          text = renderDocument(d, "env");
        } catch (err) {
          // Some strings no dotenv quoting can carry: those are refused, never mangled.
          expect((err as CliError).code).toBe("env_unrepresentable");
          return;
        }
        const back = parseDotenv(text);
        for (const [k, v] of Object.entries(d)) expect(back[k.toUpperCase()]).toBe(v);
      }),
    );
  });

  it("writes YAML that reads back as the same document (what `nexus edit` relies on)", () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("value"), { maxLength: 3 }),
        fc.dictionary(fc.string({ minLength: 1 }), tie("value"), { maxKeys: 3 }),
      ),
    }));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), json.value, { maxKeys: 5 }), (d) => {
        const back = readYamlDocument(renderDocument(d, "yaml"), "test");
        expect(back.empty).toBe(false);
        if (!back.empty) expect(jsonEqual(back.value, d)).toBe(true);
      }),
    );
  });
});

describe("readYamlDocument", () => {
  it("reads a mapping", () => {
    expect(readYamlDocument("# c\na: 1\nb: [x, y]\n", "f")).toEqual({
      empty: false,
      value: { a: 1, b: ["x", "y"] },
    });
  });

  it("treats a file with only comments as empty", () => {
    expect(readYamlDocument("# nothing\n\n", "f")).toEqual({ empty: true });
  });

  it("names the line and column of a syntax error (exit 4)", () => {
    const err = failure(() => readYamlDocument("a: 1\nb: [\n", "the edited file"));
    expect(err.exitCode).toBe(4);
    expect(err.message).toMatch(/^the edited file is not valid YAML at line \d+, column \d+: /);
    expect(err.message).not.toMatch(/column \d+:.*column/);
  });

  it("refuses duplicate keys and documents that are not mappings", () => {
    expect(failure(() => readYamlDocument("a: 1\na: 2\n", "f")).message).toMatch(/not valid YAML at line 2/);
    expect(failure(() => readYamlDocument("- a\n- b\n", "f")).message).toContain("not a list");
    expect(failure(() => readYamlDocument("just text\n", "f")).message).toContain("not a string");
  });
});

describe("jsonEqual and toPointer", () => {
  it("ignores key order but not array order or types", () => {
    expect(jsonEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(jsonEqual({ a: "1" }, { a: 1 })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
  });

  it("escapes pointer tokens", () => {
    expect(toPointer(["a/b", "c~d"])).toBe("/a~1b/c~0d");
  });
});

describe(".env values ending in a backslash", () => {
  it("are refused rather than swallowing the next line (found by the property above)", () => {
    const err = failure(() => renderDocument({ a: "\\", aa: "#" }, "env"));
    expect(err.code).toBe("env_unrepresentable");
    expect(err.field).toBe("/a");
  });

  it("still render when the backslash is not last", () => {
    expect(parseDotenv(renderDocument({ a: "x\\y", b: "#" }, "env"))).toEqual({ A: "x\\y", B: "#" });
  });
});
