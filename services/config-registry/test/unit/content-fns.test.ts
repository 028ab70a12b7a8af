import { BadRequestError, UnsupportedMediaTypeError } from "@nexus/kit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assertJsonObject,
  detectFormat,
  locateJsonError,
  parseContent,
  YAML_MAX_ALIAS_COUNT,
} from "../../src/documents/content-fns.js";
import { catchError } from "./app-error-helper.js";

describe("detectFormat", () => {
  it.each([
    ["application/json", "json"],
    ["application/json; charset=utf-8", "json"],
    ["Application/JSON; Charset=UTF-8", "json"],
    ["application/merge-patch+json", "json"],
    ["application/vnd.nexus.config+json", "json"],
    [undefined, "json"],
    ["", "json"],
    ["application/yaml", "yaml"],
    ["application/x-yaml", "yaml"],
    ["text/yaml", "yaml"],
    ["text/x-yaml; charset=utf-8", "yaml"],
    ["text/plain; format=dotenv", "env"],
    ['text/plain; charset=utf-8; format="dotenv"', "env"],
    ["application/x-env", "env"],
    ["text/x-env", "env"],
  ] as const)("%s → %s", (contentType, format) => {
    expect(detectFormat(contentType)).toBe(format);
  });

  it.each([
    "text/plain",
    "text/html",
    "application/xml",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
  ])("refuses %s with 415", (contentType) => {
    const err = catchError(() => detectFormat(contentType));
    expect(err).toBeInstanceOf(UnsupportedMediaTypeError);
    expect(err.statusCode).toBe(415);
    expect(err.code).toBe("unsupported_media_type");
  });

  it("refuses a charset other than UTF-8", () => {
    expect(catchError(() => detectFormat("application/json; charset=latin1")).statusCode).toBe(415);
  });
});

describe("parseContent: JSON", () => {
  it("parses strings and buffers, dropping a BOM", () => {
    expect(parseContent('{"a": 1, "b": [true, null]}', "application/json")).toEqual({
      a: 1,
      b: [true, null],
    });
    expect(parseContent(Buffer.from('\uFEFF{"a": "é"}', "utf8"), "application/json")).toEqual({ a: "é" });
  });

  it("takes an already parsed object as is, after checking it", () => {
    expect(parseContent({ a: 1 }, "application/json")).toEqual({ a: 1 });
    expect(catchError(() => parseContent([1], "application/json")).code).toBe("content_not_object");
    const err = catchError(() => parseContent({ a: { b: Number.POSITIVE_INFINITY } }, "application/json"));
    expect(err.code).toBe("content_not_json");
    expect(err.field).toBe("/a/b");
  });

  it.each([
    ['{"a":}', 1, 6],
    ['{"a": 1,', 1, 9],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3],
    ['{\n  "a": tru\n}', 2, 8],
    ["", 1, 1],
    ['{"a": "x\ny"}', 1, 9],
    ['{"a": 01}', 1, 8],
    ['{"a": 1} x', 1, 10],
    ["{'a': 1}", 1, 2],
  ])("reports malformed JSON %j at line %i, column %i", (body, line, column) => {
    const err = catchError(() => parseContent(body, "application/json"));
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.code).toBe("malformed_body");
    expect(err.details).toMatchObject({ format: "json", line, column });
    expect(err.message).toContain(`line ${line}, column ${column}`);
  });

  it.each([
    ["[1, 2]", "an array"],
    ["42", "a number"],
    ['"text"', "a string"],
    ["null", "null"],
    ["true", "a boolean"],
  ])("refuses the non-object %s", (body, kind) => {
    const err = catchError(() => parseContent(body, "application/json"));
    expect(err.code).toBe("content_not_object");
    expect(err.statusCode).toBe(400);
    expect(err.message).toContain(kind);
  });

  it("refuses invalid UTF-8 and an empty body", () => {
    expect(catchError(() => parseContent(Buffer.from([0x7b, 0xff, 0x7d]), "application/json")).code).toBe(
      "malformed_body",
    );
    expect(catchError(() => parseContent(undefined, "application/json")).code).toBe("malformed_body");
  });

  it("refuses __proto__, constructor and prototype keys, naming where", () => {
    for (const [body, field] of [
      ['{"__proto__": {"polluted": 1}}', "/__proto__"],
      ['{"a": {"constructor": {"prototype": {"x": 1}}}}', "/a/constructor"],
      ['{"a": [{"prototype": 1}]}', "/a/0/prototype"],
    ] as const) {
      const err = catchError(() => parseContent(body, "application/json"));
      expect(err.code).toBe("reserved_key");
      expect(err.field).toBe(field);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses NUL characters and lone surrogates in keys and values", () => {
    for (const body of ['{"a": "x\\u0000y"}', '{"a\\u0000": 1}', '{"a": "\\ud800"}', '{"\\udc00": 1}']) {
      expect(catchError(() => parseContent(body, "application/json")).code).toBe("invalid_character");
    }
    expect(parseContent('{"a": "\ud83d\ude00"}', "application/json")).toEqual({ a: "😀" });
  });

  it("refuses a body that is not valid UTF-8 instead of repairing it", () => {
    for (const type of ["application/json", "application/yaml", "text/plain; format=dotenv"]) {
      const body = Buffer.concat([
        Buffer.from(type.includes("json") ? '{"a": "' : "a: "),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(type.includes("json") ? '"}' : "\n"),
      ]);
      expect(catchError(() => parseContent(body, type)).code).toBe("malformed_body");
    }
  });

  it("refuses documents nested too deep", () => {
    const deep = `${'{"a":'.repeat(100)}1${"}".repeat(100)}`;
    expect(catchError(() => parseContent(deep, "application/json")).code).toBe("content_too_deep");
  });

  it("property: locateJsonError finds no error in valid JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        expect(locateJsonError(JSON.stringify(value, null, pretty ? 2 : undefined))).toBe(-1);
      }),
    );
  });

  it("property: locateJsonError finds an error in every string JSON.parse refuses", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'{}[]:,"\\ 0123456789.eE-+tfnrulas\n'.split("")) }),
        (text) => {
          let valid = true;
          try {
            JSON.parse(text);
          } catch {
            valid = false;
          }
          expect(locateJsonError(text) === -1).toBe(valid);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("parseContent: YAML", () => {
  const yaml = "application/yaml";

  it("parses block and flow YAML into JSON values", () => {
    const doc = parseContent(
      "db:\n  host: db.internal\n  port: 5432\n  ssl: true\n  replicas: [a, b]\nempty: ~\nratio: 0.5\n",
      yaml,
    );
    expect(doc).toEqual({
      db: { host: "db.internal", port: 5432, ssl: true, replicas: ["a", "b"] },
      empty: null,
      ratio: 0.5,
    });
  });

  it("uses the YAML 1.2 core schema: dates, yes/no and octal-looking values stay as written", () => {
    expect(
      parseContent(
        "day: 2024-01-01\nat: 2001-12-14t21:59:43.10-05:00\nflag: yes\noff: no\nmode: 0o17\n",
        yaml,
      ),
    ).toEqual({ day: "2024-01-01", at: "2001-12-14t21:59:43.10-05:00", flag: "yes", off: "no", mode: 15 });
    expect(parseContent("%YAML 1.1\n---\nday: 2024-01-01\nflag: yes\n", "text/yaml")).toEqual({
      day: "2024-01-01",
      flag: "yes",
    });
  });

  it("refuses duplicate keys with their location", () => {
    const err = catchError(() => parseContent("a: 1\nb: 2\na: 3\n", yaml));
    expect(err.code).toBe("malformed_body");
    expect(err.message).toMatch(/unique/i);
    expect(err.details).toMatchObject({ format: "yaml", line: 3, column: 1 });
  });

  it("reports malformed YAML with line and column", () => {
    const err = catchError(() => parseContent("a:\n  b: [1, 2\nc: 3\n", "application/x-yaml"));
    expect(err.code).toBe("malformed_body");
    expect(err.message).toMatch(/^malformed YAML at line \d+, column \d+: /);
    expect(err.details).toMatchObject({
      format: "yaml",
      line: expect.any(Number),
      column: expect.any(Number),
    });
    const indent = catchError(() => parseContent("a: 1\n b: 2\n", yaml));
    expect(indent.details).toMatchObject({ line: 1, column: 4 });
  });

  it.each([
    ["x: !!binary aGVsbG8=", "binary"],
    ["x: !!timestamp 2001-12-14", "timestamp"],
    ["x: !!set {a, b}", "set"],
    ["x: !!omap [a: 1]", "omap"],
    ["x: !custom value", "custom"],
    ["x: !!js/function 'function () {}'", "js/function"],
  ])("refuses tags beyond JSON: %s", (body, tag) => {
    const err = catchError(() => parseContent(body, yaml));
    expect(err.code).toBe("malformed_body");
    expect(err.message).toContain(tag);
    expect(err.details).toMatchObject({ line: 1 });
  });

  it("accepts the JSON tags", () => {
    expect(
      parseContent("a: !!str 123\nb: !!int 7\nc: !!float 1.5\nd: !!bool true\ne: !!null ~\n", yaml),
    ).toEqual({ a: "123", b: 7, c: 1.5, d: true, e: null });
  });

  it("refuses .inf and .nan, with the pointer", () => {
    const err = catchError(() => parseContent("limits:\n  max: .inf\n", yaml));
    expect(err.code).toBe("content_not_json");
    expect(err.field).toBe("/limits/max");
    expect(catchError(() => parseContent("a: [1, .nan]", yaml)).field).toBe("/a/1");
  });

  it("refuses complex keys and several documents", () => {
    expect(catchError(() => parseContent("? [a, b]\n: 1\n", yaml)).code).toBe("malformed_body");
    expect(catchError(() => parseContent("a: 1\n---\nb: 2\n", yaml)).message).toMatch(/multiple documents/);
  });

  it("allows a few aliases and merge keys", () => {
    expect(
      parseContent("defaults: &d {timeout: 5, retries: 2}\nsvc:\n  <<: *d\n  retries: 3\ncopy: *d\n", yaml),
    ).toEqual({
      defaults: { timeout: 5, retries: 2 },
      svc: { timeout: 5, retries: 3 },
      copy: { timeout: 5, retries: 2 },
    });
  });

  it("refuses alias expansion bombs and unknown aliases", () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
    ].join("\n");
    expect(catchError(() => parseContent(bomb, yaml)).code).toBe("malformed_body");
    const many = `a: &a 1\n${Array.from({ length: YAML_MAX_ALIAS_COUNT + 5 }, (_, i) => `k${i}: *a`).join("\n")}`;
    expect(catchError(() => parseContent(many, yaml)).code).toBe("malformed_body");
    expect(catchError(() => parseContent("a: *nowhere\n", yaml)).code).toBe("malformed_body");
  });

  it("reads an empty or comment-only document as {}, and refuses non-object documents", () => {
    expect(parseContent("", yaml)).toEqual({});
    expect(parseContent("# nothing here\n", yaml)).toEqual({});
    expect(catchError(() => parseContent("- a\n- b\n", yaml)).code).toBe("content_not_object");
    expect(catchError(() => parseContent("just a string", yaml)).code).toBe("content_not_object");
  });

  it("refuses __proto__, constructor and prototype keys, like every format", () => {
    for (const body of ["__proto__:\n  polluted: 1\n", "a:\n  constructor: 2\n", "prototype: 1\n"]) {
      expect(catchError(() => parseContent(body, yaml)).code).toBe("reserved_key");
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses a pair without a key, a raw NUL, and integers it cannot store exactly", () => {
    expect(catchError(() => parseContent(": nokey\n", yaml)).code).toBe("malformed_body");
    expect(catchError(() => parseContent("a: x\u0000y\n", yaml)).code).toMatch(
      /malformed_body|invalid_character/,
    );
    const big = catchError(() => parseContent("id: 123456789012345678901234567890\n", yaml));
    expect(big.code).toBe("malformed_body");
    expect(big.message).toMatch(/cannot be stored exactly/);
    expect(
      parseContent("id: '123456789012345678901234567890'\nmin: -9007199254740992\nf: 1e30\n", yaml),
    ).toEqual({
      id: "123456789012345678901234567890",
      min: -9007199254740992,
      f: 1e30,
    });
  });
});

describe("parseContent: .env", () => {
  const env = "text/plain; format=dotenv";

  it("parses flat string values, all quoting styles, comments and export", () => {
    const body = [
      "# comment",
      "PLAIN=value",
      "SPACED = padded  ",
      'DQ="line1\\nline2"',
      "SQ='literal $HOME \\n'",
      "BT=`back`",
      'HASH="has # hash"',
      "TRAIL=value # trailing comment",
      "export EXPORTED=yes",
      "DB__HOST=nested-looking",
      "EMPTY=",
      'MULTI="a',
      'b"',
      "NUM=42",
    ].join("\n");
    expect(parseContent(body, env)).toEqual({
      PLAIN: "value",
      SPACED: "padded",
      DQ: "line1\nline2",
      SQ: "literal $HOME \\n",
      BT: "back",
      HASH: "has # hash",
      TRAIL: "value",
      EXPORTED: "yes",
      DB__HOST: "nested-looking",
      EMPTY: "",
      MULTI: "a\nb",
      NUM: "42",
    });
  });

  it("accepts the other .env media types and empty bodies", () => {
    expect(parseContent("A=1", "application/x-env")).toEqual({ A: "1" });
    expect(parseContent(Buffer.from("A=1\r\nB=2\r\n"), "text/x-env")).toEqual({ A: "1", B: "2" });
    expect(parseContent("", "text/x-env")).toEqual({});
  });
});

describe("assertJsonObject", () => {
  it("refuses values JSON cannot carry", () => {
    expect(catchError(() => assertJsonObject({ d: new Date() })).field).toBe("/d");
    expect(catchError(() => assertJsonObject({ m: new Map() })).code).toBe("content_not_json");
    expect(catchError(() => assertJsonObject({ u: undefined })).code).toBe("content_not_json");
    expect(catchError(() => assertJsonObject({ b: 1n })).code).toBe("content_not_json");
    expect(catchError(() => assertJsonObject({ "a/b": [Number.NaN] })).field).toBe("/a~1b/0");
  });
});
