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
    (contentType: string) => (_req: unknown, body: Buffer, done: (e: Error | null, v?: unknown) => void) => {
      try {
        done(null, parseContent(body, contentType));
      } catch (err) {
        done(err as Error);
      }
    };
  for (const type of YAML_TYPES) app.addContentTypeParser(type, { parseAs: "buffer" }, parseAs(type));
  for (const type of ENV_TYPES) app.addContentTypeParser(type, { parseAs: "buffer" }, parseAs(type));
  app.addContentTypeParser("text/plain", { parseAs: "buffer" }, (req, body, done) =>
    parseAs(String(req.headers["content-type"]))(req, body as Buffer, done),
  );
  app.addContentTypeParser(
    "application/merge-patch+json",
    { parseAs: "buffer" },
    parseAs("application/json"),
  );
}
