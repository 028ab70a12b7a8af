import dotenv from "dotenv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { compileTemplate, envLines, renderFile } from "../../src/agent/render-fns.js";

const input = {
  config: { db: { host: "db-1", "pool-size": 5, password: 'p a"ss' }, hosts: ["a", "b"], debug: false },
  namespace: "shop",
  environment: "production",
};

describe("rendering a resolved document", () => {
  it("JSON and YAML hold the document as it is", () => {
    expect(JSON.parse(renderFile({ format: "json", envPrefix: "" }, input))).toEqual(input.config);
    expect(parse(renderFile({ format: "yaml", envPrefix: "" }, input))).toEqual(input.config);
  });

  it(".env flattens nested keys, upper-cases them, quotes what needs it", () => {
    const expected = [
      "APP_DB_HOST=db-1",
      "APP_DB_PASSWORD='p a\"ss'",
      "APP_DB_POOL_SIZE=5",
      "APP_DEBUG=false",
      `APP_HOSTS='["a","b"]'`,
    ];
    expect(renderFile({ format: "env", envPrefix: "APP_" }, input)).toBe(`${expected.join("\n")}\n`);
    // dotenv reads back exactly the values
    const tricky = {
      config: { a: 'p a"ss', b: "line 1\nline 2", c: `it's "both"`, d: "x y" },
      namespace: "n",
      environment: "e",
    };
    expect(dotenv.parse(renderFile({ format: "env", envPrefix: "" }, tricky))).toEqual({
      A: 'p a"ss',
      B: "line 1\nline 2",
      C: `it's "both"`,
      D: "x y",
    });
    expect(envLines({ a: { b: 1 } })).toEqual([["A_B", "1"]]);
  });

  it("a template sees the document, the namespace and the environment, and a json helper", () => {
    const t = compileTemplate("{{namespace}}/{{environment}} {{config.db.host}} {{json config.hosts}}");
    expect(renderFile({ format: "template", envPrefix: "" }, input, t)).toBe(
      'shop/production db-1 ["a","b"]',
    );
  });

  it("a template that names a missing key fails instead of rendering an empty value", () => {
    const t = compileTemplate("{{config.db.port}}");
    expect(() => renderFile({ format: "template", envPrefix: "" }, input, t)).toThrow(/port/);
  });

  it("a template cannot reach code: prototype properties are not readable", () => {
    const t = compileTemplate("{{config.constructor.name}}");
    expect(() => t(input)).toThrow();
  });
});
