// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${...}` in plain strings is the reference syntax under test.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deepMerge, isPlainObject } from "../../src/documents/document-fns.js";
import { explainDocument } from "../../src/resolve/explain-fns.js";

import { resolve, type World } from "./resolve-helpers.js";

describe("trace and explainDocument", () => {
  const base = {
    db: { host: "base-host", port: 5432, pool: { min: 1, max: 5 } },
    log: "info",
    feature: true,
    shared: "${ref:common:block}",
  };
  const overlay = {
    db: { host: "${env:DB_HOST}", pool: { max: 50 } },
    log: null,
    url: "pg://${ref:db.host}:${ref:db.port}",
    extra: [1, 2],
  };
  const world: World = {
    vars: { DB_HOST: "prod-db" },
    namespaces: { common: { doc: { block: { a: "${env:A}", b: 2 } }, vars: { A: "common-a" } } },
  };
  const layers = [
    { name: "base", revision: 3, content: base },
    { name: "production", revision: 7, content: overlay },
  ];

  it("traces the references each string went through, transitively", () => {
    const { references } = resolve(deepMerge(base, overlay), { ...world, trace: true });
    expect(references).toEqual({
      "/db/host": ["env:app:DB_HOST"],
      "/url": ["ref:app:/db/host", "env:app:DB_HOST", "ref:app:/db/port"],
      "/shared": ["ref:common:/block", "env:common:A"],
    });
  });

  it("explains which layer set every resolved leaf, after null deletes", () => {
    const merged = deepMerge(base, overlay);
    const { value, references } = resolve(merged, { ...world, trace: true });
    const explained = explainDocument({ namespace: "app", layers, resolved: value, references });
    expect(explained).toEqual({
      "/db/host": { layer: "production", revision: 7, value: "prod-db", references: ["env:app:DB_HOST"] },
      "/db/port": { layer: "base", revision: 3, value: 5432 },
      "/db/pool/min": { layer: "base", revision: 3, value: 1 },
      "/db/pool/max": { layer: "production", revision: 7, value: 50 },
      "/feature": { layer: "base", revision: 3, value: true },
      "/shared/a": {
        layer: "base",
        revision: 3,
        value: "common-a",
        references: ["ref:common:/block", "env:common:A"],
      },
      "/shared/b": {
        layer: "base",
        revision: 3,
        value: 2,
        references: ["ref:common:/block", "env:common:A"],
      },
      "/url": {
        layer: "production",
        revision: 7,
        value: "pg://prod-db:5432",
        references: ["ref:app:/db/host", "env:app:DB_HOST", "ref:app:/db/port"],
      },
      "/extra": { layer: "production", revision: 7, value: [1, 2] },
    });
    expect(explained["/log"]).toBeUndefined();
  });

  it("lists direct references without a trace", () => {
    const { value } = resolve(deepMerge(base, overlay), world);
    const explained = explainDocument({ namespace: "app", layers, resolved: value });
    expect(explained["/url"]?.references).toEqual(["ref:app:/db/host", "ref:app:/db/port"]);
    expect(explained["/shared/a"]?.references).toEqual(["ref:common:/block"]);
  });

  it("attributes a key deleted and re-added to the layer that re-added it", () => {
    const layers3 = [
      { name: "base", revision: 1, content: { a: { x: 1, y: 2 }, n: null } },
      { name: "mid", revision: 2, content: { a: null } },
      { name: "top", revision: null, content: { a: { z: 3 } } },
    ];
    const merged = deepMerge(deepMerge(layers3[0]!.content, layers3[1]!.content), layers3[2]!.content);
    expect(explainDocument({ namespace: "app", layers: layers3, resolved: merged })).toEqual({
      "/a/z": { layer: "top", revision: null, value: 3 },
      "/n": { layer: "base", revision: 1, value: null },
    });
  });

  it("marks leaves no layer explains as unknown and explains empty objects", () => {
    const explained = explainDocument({
      namespace: "app",
      layers: [{ name: "base", revision: 1, content: { e: {} } }],
      resolved: { e: {}, ghost: 1 },
    });
    expect(explained).toEqual({
      "/e": { layer: "base", revision: 1, value: {} },
      "/ghost": { layer: "unknown", revision: null, value: 1 },
    });
  });

  it("property: every leaf of a merge of two layers is attributed to a layer holding it", () => {
    const obj = fc.dictionary(
      fc.constantFrom("a", "b", "c"),
      fc.oneof(
        fc.integer(),
        fc.constant(null),
        fc.dictionary(fc.constantFrom("a", "b"), fc.oneof(fc.integer(), fc.constant(null))),
      ),
      { maxKeys: 3 },
    );
    fc.assert(
      fc.property(obj, obj, (b, o) => {
        const merged = deepMerge(b, o);
        const explained = explainDocument({
          namespace: "app",
          layers: [
            { name: "base", revision: 1, content: b },
            { name: "env", revision: 2, content: o },
          ],
          resolved: merged,
        });
        for (const [pointer, p] of Object.entries(explained)) {
          const tokens = pointer.split("/").slice(1);
          const from = p.layer === "base" ? b : o;
          let node: unknown = from;
          for (const t of tokens) node = isPlainObject(node) ? node[t] : undefined;
          // An empty object may be what is left of the layer's object after its nulls went.
          if (isPlainObject(p.value) && Object.keys(p.value).length === 0)
            expect(isPlainObject(node)).toBe(true);
          else expect(node, pointer).toEqual(p.value);
        }
      }),
    );
  });
});
