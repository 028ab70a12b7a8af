/**
 * Rendering a resolved document to a file's text: JSON, YAML, `.env`, or a handlebars template.
 * Pure: the template's text comes in, a string goes out. Handlebars templates cannot run code
 * (no eval, prototype access off by default): they only read the document given to them.
 */
import Handlebars from "handlebars";
import { stringify } from "yaml";
import type { RenderedFile } from "./agent-config.js";

export interface RenderInput {
  config: Record<string, unknown>;
  namespace: string;
  environment: string;
}

const templates = Handlebars.create();
templates.registerHelper("json", (value: unknown) => new Handlebars.SafeString(JSON.stringify(value)));

/** Compile once per template text; `strict` makes a missing key a render failure, not an empty string. */
export function compileTemplate(text: string): (input: RenderInput) => string {
  const compiled = templates.compile(text, { noEscape: true, strict: true });
  return (input) => compiled(input);
}

export function renderFile(
  file: Pick<RenderedFile, "format" | "envPrefix">,
  input: RenderInput,
  template?: (input: RenderInput) => string,
): string {
  switch (file.format) {
    case "json":
      return `${JSON.stringify(input.config, null, 2)}\n`;
    case "yaml":
      return stringify(input.config);
    case "env":
      return `${envLines(input.config, file.envPrefix)
        .map(([k, v]) => `${k}=${quoteEnv(v)}`)
        .join("\n")}\n`;
    case "template":
      if (!template) throw new Error("no template was compiled for this file");
      return template(input);
  }
}

/**
 * The document as environment variables: nested keys joined by `_`, upper-cased, anything not a
 * letter or digit as `_` (`database.pool-size` → `DATABASE_POOL_SIZE`); arrays as JSON.
 */
export function envLines(config: Record<string, unknown>, prefix = ""): [string, string][] {
  const out: [string, string][] = [];
  const walk = (value: unknown, name: string) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, name ? `${name}_${k}` : k);
      return;
    }
    const key = `${prefix}${name.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`;
    out.push([key, typeof value === "string" ? value : JSON.stringify(value)]);
  };
  walk(config, "");
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Quoted the way dotenv (and a shell, for the first two) reads back exactly: bare when safe,
 * single quotes (taken literally), double quotes (where only `\n` is expanded) for newlines,
 * backticks when the value holds both kinds of quote. A value none of these can carry is a
 * render failure rather than a silently different value.
 */
function quoteEnv(value: string): string {
  if (/^[A-Za-z0-9_./:@+-]*$/.test(value)) return value;
  if (!/['\n]/.test(value)) return `'${value}'`;
  if (!/["\\]/.test(value)) return `"${value.replace(/\n/g, "\\n")}"`;
  if (!/[`\n]/.test(value)) return `\`${value}\``;
  throw new Error("a value holds quotes of every kind and a newline; it cannot be written to a .env file");
}
