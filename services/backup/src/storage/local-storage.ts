import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { assertSafeKey, type BundleStorage, StorageNotFoundError } from "./storage-types.js";

/** Bundles as files under one directory (the default backend). Writes go to a temp file, then rename. */
export function createLocalStorage(root: string): BundleStorage {
  const pathOf = (key: string) => {
    assertSafeKey(key);
    return join(root, key);
  };

  async function walk(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    });
    const out: string[] = [];
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) out.push(...(await walk(full)));
      else if (!e.name.endsWith(".partial")) out.push(relative(root, full).split("\\").join("/"));
    }
    return out;
  }

  return {
    description: `local:${root}`,
    async put(key, body: Readable) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temp = `${path}.${process.pid}.${Date.now()}.partial`;
      try {
        await pipeline(body, createWriteStream(temp, { flags: "wx", mode: 0o600 }));
        await rename(temp, path);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },
    async get(key) {
      const path = pathOf(key);
      const s = await stat(path).catch(() => undefined);
      if (!s?.isFile()) throw new StorageNotFoundError(key);
      return createReadStream(path);
    },
    async list(prefix) {
      const keys = await walk(root);
      return keys.filter((k) => k.startsWith(prefix)).sort();
    },
    async removePrefix(prefix) {
      assertSafeKey(prefix);
      const dir = join(root, prefix);
      if (prefix.endsWith("/")) await rm(dir, { recursive: true, force: true });
      else for (const k of await this.list(prefix)) await rm(join(root, k), { force: true });
    },
    async close() {},
  };
}
