import type { App } from "@nexus/kit";
import { parseContent } from "../documents/content-fns.js";

const YAML_TYPES = ["application/yaml", "application/x-yaml", "text/yaml"];
const ENV_TYPES = ["application/x-env", "text/x-env"];

/**
 * Config bodies may be YAML or `.env` as well as JSON; all become the same JSON object before
 * validation. JSON Merge Patch bodies are JSON under their own media type.
 */
export function registerConfigContentParsers(app: App): void {
  const parseAs =
    (contentType: string) =>
    (_req: unknown, body: string | Buffer, done: (e: Error | null, v?: unknown) => void) => {
      try {
        done(null, parseContent(body.toString(), contentType));
      } catch (err) {
        done(err as Error);
      }
    };
  for (const type of YAML_TYPES) app.addContentTypeParser(type, { parseAs: "string" }, parseAs(type));
  for (const type of ENV_TYPES) app.addContentTypeParser(type, { parseAs: "string" }, parseAs(type));
  app.addContentTypeParser("text/plain", { parseAs: "string" }, (req, body, done) =>
    parseAs(String(req.headers["content-type"]))(req, body, done),
  );
  app.addContentTypeParser(
    "application/merge-patch+json",
    { parseAs: "string" },
    parseAs("application/json"),
  );
}
