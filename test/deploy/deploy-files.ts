import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parse as parseYaml } from "yaml";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Every service of the repository (a new one under services/ is picked up without edits). */
export async function serviceNames(): Promise<string[]> {
  const entries = await readdir(join(ROOT, "services"), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(ROOT, "services", e.name, "src/main.ts")))
    .map((e) => e.name)
    .sort();
}

/** One YAML document, merge keys (`<<: *anchor`) resolved as Compose resolves them. */
export async function readYaml<T = Record<string, unknown>>(path: string): Promise<T> {
  return parseYaml(await readFile(join(ROOT, path), "utf8"), { merge: true }) as T;
}

/** Every document of a multi-document YAML file (Kubernetes manifests); fails on a syntax error. */
export async function readYamlDocuments(path: string): Promise<unknown[]> {
  const docs = parseAllDocuments(await readFile(join(ROOT, path), "utf8"), { merge: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]?.message}`);
  return list.map((d) => d.toJS()).filter((d) => d !== null);
}
