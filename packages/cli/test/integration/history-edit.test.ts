import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../../services/config-registry/test/integration/harness.js";
import { BIN, type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

describe("nexus diff / history / rollback / edit", () => {
  let env: CliEnvironment;
  const layer = () => call(env.registry, "GET", "/v1/namespaces/shop/layers/production");
  const history = async () =>
    (await call(env.registry, "GET", "/v1/namespaces/shop/layers/production/revisions")).body
      .items as unknown[];

  /** An executable EDITOR made of a shell script body; the file to edit is "$1". */
  async function editor(name: string, body: string): Promise<string> {
    const path = join(env.dir, name);
    await writeFile(path, `#!/bin/sh\nset -e\n${body}\n`, { mode: 0o755 });
    return path;
  }

  beforeAll(async () => {
    env = await startCliEnvironment({ tokenOwner: "ann" });
    // The token is ann's: she is the author of every write below.
    expect((await env.run(["login", env.url])).code).toBe(0);
    expect((await env.run(["ns", "create", "shop"])).code).toBe(0);
    // production: revision 1 then 2 (the namespace's revision sequence is shared by its layers).
    for (const doc of [
      "database:\n  pool: 10\nlog_level: info\nold: true\n",
      "database:\n  pool: 20\nlog_level: info\nnew: [1]\n",
    ]) {
      expect((await env.run(["set", "shop", "production", "-f", "-"], { stdin: doc })).code).toBe(0);
    }
  });
  afterAll(async () => env?.close());

  it("diffs two revisions with old and new values", async () => {
    const r = await env.run(["diff", "shop", "production", "1", "2"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("shop/production: revision 1 → 2");
    expect(lines.slice(1).sort()).toEqual(["  + /new: [1]", "  - /old: true", "  ~ /database/pool: 10 → 20"]);

    const json = JSON.parse((await env.run(["diff", "shop", "production", "1", "2", "--json"])).stdout);
    expect(json).toMatchObject({ namespace: "shop", layer: "production", from: 1, to: 2 });
    expect(json.changes).toContainEqual({ op: "replace", path: "/database/pool", before: 10, after: 20 });
    expect(json.operations).toContainEqual({ op: "replace", path: "/database/pool", value: 20 });

    const fromEmpty = await env.run(["diff", "shop", "production", "0", "1"]);
    expect(fromEmpty.stdout).toContain('  + /log_level: "info"');
    const same = await env.run(["diff", "shop", "production", "2", "2"]);
    expect(same.stdout).toBe("shop/production: revision 2 → 2\n  no differences\n");
  });

  it("exits 1 for a revision the layer does not have, 2 for one that is not a number", async () => {
    const missing = await env.run(["diff", "shop", "production", "1", "99"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("HTTP 404");
    expect((await env.run(["diff", "shop", "production", "1", "two"])).code).toBe(2);
  });

  it("lists the history newest first, limited", async () => {
    const r = await env.run(["history", "shop", "production"]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^REVISION\s+CREATED\s+AUTHOR\s+SOURCE\s+HASH\s+MESSAGE$/);
    expect(rows.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["2", "1"]);
    expect(rows[1]).toMatch(/\bann\s+api\b/);

    const limited = JSON.parse(
      (await env.run(["history", "shop", "production", "--limit", "1", "--json"])).stdout,
    );
    expect(limited.items.map((i: { revision: number }) => i.revision)).toEqual([2]);
  });

  it("rolls back to an older revision's content as a new revision", async () => {
    const r = await env.run(["rollback", "shop", "production", "1", "-m", "too many connections"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Rolled back to the content of revision 1.");
    expect(r.stdout).toContain("shop/production: revision 3 (was 2)");
    const head = await layer();
    expect(head.body).toMatchObject({
      revision: 3,
      content: { database: { pool: 10 }, log_level: "info", old: true },
    });
    const rev = await call(env.registry, "GET", "/v1/namespaces/shop/layers/production/revisions/3");
    expect(rev.body).toMatchObject({ source: "rollback:1", message: "too many connections", author: "ann" });

    const stale = await env.run(["rollback", "shop", "production", "2", "--if-match", "2"]);
    expect(stale.code).toBe(3);
    expect((await layer()).body.revision).toBe(3);
  });

  it("edit: writes what the editor changed, with If-Match = the revision it opened", async () => {
    const ed = await editor("bump.sh", `sed -i 's/pool: 10/pool: 15/' "$1"`);
    const r = await env.run(["edit", "shop", "production", "-m", "edited"], { env: { EDITOR: ed } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("shop/production: revision 4 (was 3)");
    expect((await layer()).body).toMatchObject({ revision: 4, content: { database: { pool: 15 } } });
    expect((await history())[0]).toMatchObject({ revision: 4, message: "edited" });
    expect(await readdir(env.tmp).then((names) => names.filter((n) => n.startsWith("nexus-edit-")))).toEqual(
      [],
    );
  });

  it("edit: VISUAL wins over EDITOR", async () => {
    const visual = await editor("visual.sh", `sed -i 's/pool: 15/pool: 16/' "$1"`);
    const r = await env.run(["edit", "shop", "production"], { env: { VISUAL: visual, EDITOR: "false" } });
    expect(r.code).toBe(0);
    expect((await layer()).body.content).toMatchObject({ database: { pool: 16 } });
  });

  it("edit: an unchanged file, or one emptied, writes nothing", async () => {
    const before = (await history()).length;
    const unchanged = await env.run(["edit", "shop", "production"], { env: { EDITOR: "true" } });
    expect(unchanged.code).toBe(0);
    expect(unchanged.stdout).toContain("no changes; nothing written");

    const reordered = await editor("comments.sh", `printf '# only a comment\\n' >> "$1"`);
    expect((await env.run(["edit", "shop", "production"], { env: { EDITOR: reordered } })).stdout).toContain(
      "no changes",
    );

    const emptied = await editor("empty.sh", `: > "$1"`);
    const empty = await env.run(["edit", "shop", "production"], { env: { EDITOR: emptied } });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain("the file is empty, so the edit was cancelled");
    expect(await history()).toHaveLength(before);
  });

  it("edit: invalid YAML exits 4, writes nothing and keeps the edited file", async () => {
    const before = (await layer()).body;
    const broken = await editor("broken.sh", `printf 'database: [\\n' > "$1"`);
    const r = await env.run(["edit", "shop", "production"], { env: { EDITOR: broken } });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/the edited file is not valid YAML at line \d+, column \d+/);
    const kept = /Your edit is kept in (\S+\.yaml)\./.exec(r.stderr)?.[1];
    expect(kept).toBeDefined();
    expect(await readFile(kept!, "utf8")).toBe("database: [\n");
    expect((await layer()).body).toEqual(before);
  });

  it("edit: someone writing the layer meanwhile makes it exit 3, keeping the edit", async () => {
    // The editor itself writes the layer through the CLI (another user), then edits the file.
    const racing = await editor(
      "race.sh",
      [
        `printf 'database:\\n  pool: 99\\n' | "${process.execPath}" "${BIN}" set shop production -f - >/dev/null`,
        `sed -i 's/pool: 16/pool: 17/' "$1"`,
      ].join("\n"),
    );
    const r = await env.run(["edit", "shop", "production"], { env: { EDITOR: racing } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("code revision_conflict, HTTP 409");
    expect(r.stderr).toContain("run `nexus edit` again");
    const kept = /Your edit is kept in (\S+\.yaml)\./.exec(r.stderr)?.[1];
    expect(await readFile(kept!, "utf8")).toContain("pool: 17");
    expect((await layer()).body.content).toEqual({ database: { pool: 99 } });
  });

  it("edit: an editor that fails writes nothing (exit 1)", async () => {
    const before = (await layer()).body.revision;
    const r = await env.run(["edit", "shop", "production"], { env: { EDITOR: "false" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("exited with status 1; nothing was written");
    expect((await layer()).body.revision).toBe(before);
  });
});
