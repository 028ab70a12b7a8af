/**
 * `pnpm build`: every workspace package and service to plain JavaScript, and the CLI to one
 * installable package.
 *
 * - packages/* and services/* with a `src/`: each TypeScript file transpiled by esbuild to the same
 *   path under `dist/` (not bundled). The layout is kept on purpose: code finds its migrations,
 *   package.json and static files relative to `import.meta.url`, and third-party imports keep
 *   resolving through each package's own node_modules (pnpm's strict layout), locally and in the
 *   image. Type checking stays with `tsc` (the sources are isolatedModules-safe). Workspace
 *   packages point their `nexus-dist` export condition at dist/, so a service runs with
 *   `node --conditions=nexus-dist dist/main.js` while tsx, vitest and tsc keep reading src/.
 * - packages/cli: one ES module with every dependency bundled (dist/npm/nexus.js) and a
 *   dependency-free package.json beside it, so `npm pack packages/cli/dist/npm` gives a tarball
 *   that `npm i -g` installs on a machine without this workspace.
 *
 * Usage: tsx scripts/lib/build.ts [name…]   (names like kit, config-registry; default: all)
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TARGET = "node20";

interface Workspace {
  name: string;
  dir: string;
}

async function workspaces(): Promise<Workspace[]> {
  const found: Workspace[] = [];
  for (const group of ["packages", "services"]) {
    for (const entry of await readdir(join(ROOT, group), { withFileTypes: true })) {
      const dir = join(ROOT, group, entry.name);
      if (entry.isDirectory() && existsSync(join(dir, "src")) && existsSync(join(dir, "package.json")))
        found.push({ name: entry.name, dir });
    }
  }
  return found;
}

async function sourceFiles(srcDir: string): Promise<string[]> {
  const entries = await readdir(srcDir, { recursive: true, withFileTypes: true });
  return entries
    .filter(
      (e) =>
        e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts"),
    )
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** src/**.ts → dist/**.js, one file each (imports already name `.js`, as NodeNext requires). */
async function transpile(ws: Workspace): Promise<number> {
  const files = await sourceFiles(join(ws.dir, "src"));
  await rm(join(ws.dir, "dist"), { recursive: true, force: true });
  await build({
    entryPoints: files,
    outbase: join(ws.dir, "src"),
    outdir: join(ws.dir, "dist"),
    bundle: false,
    platform: "node",
    format: "esm",
    target: TARGET,
    sourcemap: "linked",
    logLevel: "warning",
  });
  return files.length;
}

/** The CLI as one dependency-free package: dist/npm/{nexus.js,package.json,README.md}. */
async function bundleCli(ws: Workspace): Promise<void> {
  const out = join(ws.dir, "dist", "npm");
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const pkg = JSON.parse(await readFile(join(ws.dir, "package.json"), "utf8")) as { version: string };
  await build({
    stdin: {
      contents:
        'import { run, processIo } from "./src/main.ts";\nprocess.exitCode = await run(process.argv, processIo());\n',
      resolveDir: ws.dir,
      loader: "ts",
      sourcefile: "nexus.ts",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    target: TARGET,
    outfile: join(out, "nexus.js"),
    logLevel: "warning",
    banner: {
      // CommonJS dependencies bundled into an ES module still call require() for node built-ins.
      js: '#!/usr/bin/env node\nimport { createRequire as nexusCreateRequire } from "node:module";\nconst require = nexusCreateRequire(import.meta.url);',
    },
  });
  const manifest = {
    name: "@nexus/cli",
    version: pkg.version,
    description: "nexus: the command line for the Nexus configuration platform",
    type: "module",
    bin: { nexus: "nexus.js" },
    files: ["nexus.js", "README.md"],
    engines: { node: ">=20.11" },
    license: "UNLICENSED",
  };
  await writeFile(join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(
    join(out, "README.md"),
    "# nexus\n\nThe Nexus command line, bundled into one file. Run `nexus --help`.\n",
  );
}

async function main(): Promise<void> {
  const wanted = new Set(process.argv.slice(2));
  const all = await workspaces();
  const unknown = [...wanted].filter((n) => !all.some((w) => w.name === n));
  if (unknown.length > 0) throw new Error(`build: no package or service named ${unknown.join(", ")}`);
  for (const ws of all) {
    if (wanted.size > 0 && !wanted.has(ws.name)) continue;
    const started = Date.now();
    if (ws.name === "cli") {
      await bundleCli(ws);
      console.log(
        `built cli → ${relative(ROOT, join(ws.dir, "dist/npm/nexus.js"))} (${Date.now() - started} ms)`,
      );
    } else {
      const count = await transpile(ws);
      console.log(
        `built ${ws.name}: ${count} files → ${relative(ROOT, join(ws.dir, "dist"))} (${Date.now() - started} ms)`,
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
