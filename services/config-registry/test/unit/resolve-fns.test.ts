import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_REFERENCE_DEPTH, parsePath, parseTemplate } from "../../src/resolve/resolve-fns.js";

import { type Doc, failure, loads, resolve, type World } from "./resolve-helpers.js";

describe("parseTemplate / parsePath", () => {
  it("returns null when there is nothing to resolve", () => {
    expect(parseTemplate("plain $HOME and $ {x} and {y}")).toBeNull();
  });

  it("splits text, references and escapes", () => {
    expect(parseTemplate("a ${env:X} b $${env:Y} ${ref:c.d}")).toEqual([
      { kind: "text", text: "a " },
      { kind: "ref", raw: "${env:X}", ref: { kind: "env", name: "X" } },
      { kind: "text", text: " b ${env:Y} " },
      { kind: "ref", raw: "${ref:c.d}", ref: { kind: "ref", namespace: undefined, tokens: ["c", "d"] } },
    ]);
    expect(parseTemplate("$$${x}")).toEqual([{ kind: "text", text: "$${x}" }]);
  });

  it("parses dot paths with indexes and JSON pointers", () => {
    expect(parsePath("a.b[0][1].c")).toEqual(["a", "b", "0", "1", "c"]);
    expect(parsePath("a.0.b")).toEqual(["a", "0", "b"]);
    expect(parsePath("/a~1b/c~0d/0")).toEqual(["a/b", "c~d", "0"]);
    for (const bad of ["", "a..b", ".a", "a.", "a[x]", "a[0", "[0]", "a.[0]"])
      expect(parsePath(bad)).toBeNull();
  });

  it("recognises cross-namespace references and invalid ones", () => {
    const [ref] = parseTemplate("${ref:shared-db:db.host}")!;
    expect(ref).toMatchObject({ ref: { kind: "ref", namespace: "shared-db", tokens: ["db", "host"] } });
    const [pointer] = parseTemplate("${ref:shared:/db/host}")!;
    expect(pointer).toMatchObject({ ref: { kind: "ref", namespace: "shared", tokens: ["db", "host"] } });
    for (const bad of [
      "${vault:x}",
      "${nothing}",
      "${ref:Bad_NS:a}",
      "${env:}",
      "${env:a b}",
      "${ref:}",
      "${ref:a${b}",
    ]) {
      const parts = parseTemplate(bad)!;
      expect(
        parts.some((p) => p.kind === "ref" && p.ref.kind === "invalid"),
        bad,
      ).toBe(true);
    }
  });
});

describe("resolveDocument", () => {
  it("leaves documents without references alone", () => {
    const doc = { a: 1, b: { c: ["x", null, true] }, d: "no $refs {here}" };
    expect(resolve(doc)).toEqual({ value: doc, dependencies: [], reads: new Map() });
  });

  it("shares subtrees without references with its input and builds only the paths to the others", () => {
    const doc = {
      plain: { deep: { list: [1, { x: "y" }] } },
      mixed: { host: "${env:H}", port: 5432, opts: { ssl: true } },
      hosts: ["a", "${env:H}", { z: 1 }],
    };
    const before = structuredClone(doc);
    const value = resolve(doc, { vars: { H: "db" } }).value as typeof doc;
    expect(value).toEqual({
      plain: { deep: { list: [1, { x: "y" }] } },
      mixed: { host: "db", port: 5432, opts: { ssl: true } },
      hosts: ["a", "db", { z: 1 }],
    });
    expect(doc).toEqual(before);
    expect(value).not.toBe(doc);
    expect(value.plain).toBe(doc.plain);
    expect(value.mixed).not.toBe(doc.mixed);
    expect(value.mixed.opts).toBe(doc.mixed.opts);
    expect(value.hosts).not.toBe(doc.hosts);
    expect(value.hosts[2]).toBe(doc.hosts[2]);
    // A referenced value is copied into place, never shared with the document it came from.
    const ref = { defaults: { pool: { min: 1 } }, pool: "${ref:defaults.pool}" };
    const out = resolve(ref).value as { defaults: unknown; pool: unknown };
    expect(out.pool).toEqual(ref.defaults.pool);
    expect(out.pool).not.toBe(ref.defaults.pool);
  });

  it("substitutes variables, whole and embedded", () => {
    const { value } = resolve(
      {
        host: "${env:DB_HOST}",
        url: "postgres://${env:DB_USER}@${env:DB_HOST}:5432/app",
        port: "${env:PORT}",
      },
      { vars: { DB_HOST: "db.internal", DB_USER: "svc", PORT: "5432" } },
    );
    // Variables are strings, whole or not.
    expect(value).toEqual({ host: "db.internal", url: "postgres://svc@db.internal:5432/app", port: "5432" });
  });

  it("does not resolve references inside variable values", () => {
    expect(resolve({ a: "${env:V}" }, { vars: { V: "${env:W}" } }).value).toEqual({ a: "${env:W}" });
  });

  it("takes typed values for whole-string references", () => {
    const { value } = resolve({
      defaults: { port: 5432, ssl: true, hosts: ["a", "b"], pool: { min: 1, max: 5 }, none: null },
      port: "${ref:defaults.port}",
      ssl: "${ref:defaults.ssl}",
      hosts: "${ref:defaults.hosts}",
      first: "${ref:defaults.hosts[0]}",
      second: "${ref:defaults.hosts.1}",
      pool: "${ref:defaults.pool}",
      none: "${ref:defaults.none}",
      pointer: "${ref:/defaults/pool/max}",
    });
    expect(value).toMatchObject({
      port: 5432,
      ssl: true,
      hosts: ["a", "b"],
      first: "a",
      second: "b",
      pool: { min: 1, max: 5 },
      none: null,
      pointer: 5,
    });
  });

  it("stringifies embedded references", () => {
    const { value } = resolve({
      n: 3,
      b: false,
      z: null,
      s: "x",
      out: "n=${ref:n} b=${ref:b} z=${ref:z} s=${ref:s}",
    });
    expect(value.out).toBe("n=3 b=false z=null s=x");
  });

  it("refuses objects and arrays embedded in a longer string", () => {
    const err = failure({ obj: { a: 1 }, list: [1], s: "value: ${ref:obj}", t: "${ref:list}!" });
    expect(err.code).toBe("reference_invalid");
    expect(err.field).toBe("/s");
    expect(err.details.errors.map((e) => [e.pointer, e.code])).toEqual([
      ["/s", "reference_invalid"],
      ["/t", "reference_invalid"],
    ]);
  });

  it("turns $${ into a literal ${ and never re-expands it", () => {
    const { value } = resolve(
      { a: "$${env:X}", b: "cost: $$${env:X}", c: "${ref:a}", d: "pre ${ref:a} post", e: "$${" },
      { vars: { X: "x" } },
    );
    expect(value).toEqual({
      a: "${env:X}",
      b: "cost: $${env:X}",
      c: "${env:X}",
      d: "pre ${env:X} post",
      e: "${",
    });
  });

  it("follows chains of references, in any order", () => {
    const { value } = resolve(
      {
        url: "${ref:db.url}",
        db: { url: "postgres://${ref:db.host}:${ref:db.port}", host: "${env:HOST}", port: "${ref:ports.db}" },
        ports: { db: 5432 },
      },
      { vars: { HOST: "h" } },
    );
    expect(value.url).toBe("postgres://h:5432");
    expect((value.db as Doc).port).toBe(5432);
  });

  it("walks a path through a value produced by a reference", () => {
    const { value } = resolve({ alias: "${ref:real}", real: { deep: { x: 1 } }, x: "${ref:alias.deep.x}" });
    expect(value.x).toBe(1);
  });

  it("resolves references inside a referenced object", () => {
    const { value } = resolve(
      { tpl: { host: "${env:H}", n: "${ref:n}" }, n: 2, copy: "${ref:tpl}" },
      { vars: { H: "h" } },
    );
    expect(value.copy).toEqual({ host: "h", n: 2 });
    // The copy is a separate object.
    expect(value.copy).not.toBe(value.tpl);
  });

  it("reads other namespaces in their own context, transitively", () => {
    const world: World = {
      namespaces: {
        shared: {
          doc: {
            db: { host: "${env:HOST}", port: 5432, url: "${ref:db.host}:${ref:db.port}" },
            region: "${ref:global:region}",
          },
          vars: { HOST: "shared-db" },
        },
        global: { doc: { region: "eu-west-1" } },
        unused: { doc: { x: 1 } },
      },
      vars: { HOST: "my-own-host" },
    };
    const result = resolve(
      {
        db: "${ref:shared:db}",
        url: "${ref:shared:db.url}",
        region: "region=${ref:shared:region}",
        own: "${env:HOST}",
        self: "${ref:app:own}",
        viaPointer: "${ref:shared:/db/port}",
      },
      world,
    );
    expect(result.value).toEqual({
      db: { host: "shared-db", port: 5432, url: "shared-db:5432" },
      url: "shared-db:5432",
      region: "region=eu-west-1",
      own: "my-own-host",
      self: "my-own-host",
      viaPointer: 5432,
    });
    expect(result.dependencies).toEqual(["global", "shared"]);
    // Every pointer followed into another namespace, from any namespace's string: the reader's
    // own `${ref:shared:…}`s, and those of shared's strings it reached (db.url, region).
    expect(result.reads).toEqual(
      new Map([
        ["shared", ["/db", "/db/host", "/db/port", "/db/url", "/region"]],
        ["global", ["/region"]],
      ]),
    );
  });

  it("loads each other namespace once", () => {
    loads.length = 0;
    resolve(
      { a: "${ref:shared:x}", b: "${ref:shared:y}", c: "${ref:shared:x}" },
      { namespaces: { shared: { doc: { x: 1, y: "${ref:x}" } } } },
    );
    expect(loads).toEqual(["shared"]);
  });

  it("treats __proto__ and constructor as plain keys", () => {
    const doc = JSON.parse(
      '{"__proto__": {"polluted": "yes"}, "constructor": {"name": "c"}, "a": "${ref:__proto__.polluted}", "b": "${ref:constructor.name}", "c": "${env:constructor}", "d": "${ref:toString}"}',
    );
    delete doc.c;
    delete doc.d;
    const { value } = resolve(doc);
    expect(value.a).toBe("yes");
    expect(value.b).toBe("c");
    expect(Object.hasOwn(value, "__proto__")).toBe(true);
    expect(({} as Doc).polluted).toBeUndefined();
    // Inherited properties are not keys or variables.
    expect(failure({ d: "${ref:toString}" }).code).toBe("reference_missing");
    expect(failure({ c: "${env:constructor}" }).code).toBe("variable_missing");
    expect(failure({ c: "${env:__proto__}" }).code).toBe("variable_missing");
  });

  describe("errors", () => {
    it("reports a missing variable at the string's pointer", () => {
      const err = failure({ db: { url: "postgres://${env:DB_HOST}/x" } });
      expect(err.statusCode).toBe(422);
      expect(err.code).toBe("variable_missing");
      expect(err.field).toBe("/db/url");
      expect(err.details).toMatchObject({
        reference: "${env:DB_HOST}",
        chain: ["app:/db/url"],
        namespace: "app",
        pointer: "/db/url",
      });
      expect(err.message).toContain("DB_HOST");
    });

    it("reports a missing key with where the path stopped", () => {
      const err = failure({ a: { b: 1 }, list: [1], x: { y: "${ref:a.c}" }, z: "${ref:list[3]}" });
      expect(err.code).toBe("reference_missing");
      expect(err.field).toBe("/x/y");
      expect(err.message).toContain('"c" at /a');
      expect(err.details.errors).toHaveLength(2);
      expect(err.details.errors[1]).toMatchObject({
        pointer: "/z",
        code: "reference_missing",
        reference: "${ref:list[3]}",
      });
    });

    it("reports a missing key when the path goes through a scalar", () => {
      expect(failure({ a: 1, b: "${ref:a.b}" }).code).toBe("reference_missing");
    });

    it("reports a missing namespace", () => {
      const err = failure({ a: { b: "${ref:nope:x}" } });
      expect(err.code).toBe("namespace_missing");
      expect(err.field).toBe("/a/b");
      expect(err.details.reference).toBe("${ref:nope:x}");
    });

    it("reports invalid syntax", () => {
      for (const s of ["${ref:a", "${vault:x}", "${ref:a..b}", "${}", "${ref:UPPER:x}"]) {
        const err = failure({ s, a: 1 });
        expect(err.code, s).toBe("reference_invalid");
        expect(err.field).toBe("/s");
      }
    });

    it("reports a self reference as a cycle", () => {
      const err = failure({ a: "${ref:a}" });
      expect(err.code).toBe("reference_cycle");
      expect(err.field).toBe("/a");
      expect(err.details.chain).toEqual(["app:/a", "app:/a"]);
    });

    it("reports a reference to its own ancestor as a cycle", () => {
      const err = failure({ a: { b: "${ref:a}" } });
      expect(err.code).toBe("reference_cycle");
      expect(err.field).toBe("/a/b");
    });

    it("reports 2- and 3-node cycles once, with the whole cycle", () => {
      const two = failure({ a: "${ref:b}", b: "${ref:a}" });
      expect(two.code).toBe("reference_cycle");
      expect(two.details.chain).toEqual(["app:/a", "app:/b", "app:/a"]);
      expect(two.details.errors).toHaveLength(1);

      const three = failure({ x: "${ref:a}", a: "x${ref:b}", b: "${ref:c}", c: "${ref:a}" });
      expect(three.code).toBe("reference_cycle");
      expect(three.details.chain).toEqual(["app:/a", "app:/b", "app:/c", "app:/a"]);
      expect(three.details.errors).toHaveLength(1);
      expect(three.field).toBe("/c");
    });

    it("reports cycles across namespaces, with the local pointer as field", () => {
      const err = failure(
        { a: "${ref:one:x}", ok: 1 },
        {
          namespaces: {
            one: { doc: { x: "${ref:two:y}" } },
            two: { doc: { y: "${ref:app:a}" } },
          },
        },
      );
      expect(err.code).toBe("reference_cycle");
      expect(err.details.chain).toEqual(["app:/a", "one:/x", "two:/y", "app:/a"]);
      expect(err.field).toBe("/a");
      expect(err.details.errors).toHaveLength(1);
      expect(err.details.errors[0]).toMatchObject({
        namespace: "two",
        pointer: "/y",
        reference: "${ref:app:a}",
      });
    });

    it("reports problems inside other namespaces at the local string that led there", () => {
      const err = failure(
        { conn: { url: "${ref:shared:url}" } },
        { namespaces: { shared: { doc: { url: "${env:MISSING}" } } } },
      );
      expect(err.code).toBe("variable_missing");
      expect(err.field).toBe("/conn/url");
      expect(err.details).toMatchObject({
        namespace: "shared",
        pointer: "/url",
        chain: ["app:/conn/url", "shared:/url"],
      });
    });

    it("collects every problem, each once, in document order", () => {
      const err = failure({
        a: "${env:A} ${env:B}",
        b: "${ref:missing}",
        c: "${ref:a}",
        d: "${ref:nope:x}",
        e: "${bad}",
        f: "fine",
      });
      expect(err.details.errors.map((e) => [e.pointer, e.code, e.reference])).toEqual([
        ["/a", "variable_missing", "${env:A}"],
        ["/a", "variable_missing", "${env:B}"],
        ["/b", "reference_missing", "${ref:missing}"],
        ["/d", "namespace_missing", "${ref:nope:x}"],
        ["/e", "reference_invalid", "${bad}"],
      ]);
      expect(err.code).toBe("variable_missing");
      expect(err.message).toContain("and 4 more reference problems");
    });

    it("refuses chains longer than the limit", () => {
      const doc: Doc = { k0: "end" };
      for (let i = 1; i <= MAX_REFERENCE_DEPTH + 5; i++) doc[`k${i}`] = `\${ref:k${i - 1}}`;
      // Resolving in document order memoizes each step, so reverse it to force one long chain.
      const reversed = Object.fromEntries(Object.entries(doc).reverse());
      expect(failure(reversed).code).toBe("reference_invalid");
      // A long chain within the limit is fine.
      const ok: Doc = { k0: "end" };
      for (let i = 1; i < MAX_REFERENCE_DEPTH - 1; i++) ok[`k${i}`] = `\${ref:k${i - 1}}`;
      expect(resolve(Object.fromEntries(Object.entries(ok).reverse())).value.k1).toBe("end");
    });
  });

  it("stays fast on many shared references (memoized)", () => {
    const doc: Doc = { base: { a: "${env:X}", b: "${ref:base.a}-b" } };
    for (let i = 0; i < 5000; i++) doc[`k${i}`] = i % 2 ? "${ref:base}" : "${ref:base.b}/x";
    const started = performance.now();
    const { value } = resolve(doc, { vars: { X: "x" } });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(value.k0).toBe("x-b/x");
    expect(value.k1).toEqual({ a: "x", b: "x-b" });
  });

  it("property: documents without ${ resolve to themselves", () => {
    const noRefs = fc
      .dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
      .map((d) => JSON.parse(JSON.stringify(d).replaceAll("${", "{")) as Doc);
    fc.assert(
      fc.property(noRefs, (doc) => {
        expect(resolve(doc).value).toEqual(doc);
      }),
    );
  });

  it("property: a whole-string reference yields exactly the referenced value", () => {
    const value = fc
      .jsonValue({ maxDepth: 3 })
      .map((v) => JSON.parse(JSON.stringify(v).replaceAll("${", "{")) as unknown);
    fc.assert(
      fc.property(value, (v) => {
        expect(resolve({ target: v, copy: "${ref:target}" }).value.copy).toEqual(v);
      }),
    );
  });
});
