import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readConfigFile, writeConfigFile } from "../../src/config-file.js";
import { CliError } from "../../src/exit-codes.js";

describe("config file", () => {
  let dir: string;
  let previousUmask: number;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "nexus-cli-unit-"));
    // The most permissive umask: the file must still end up 0600.
    previousUmask = process.umask(0);
  });
  afterEach(async () => {
    process.umask(previousUmask);
    await rm(dir, { recursive: true, force: true });
  });

  const mode = async (path: string) => (await stat(path)).mode & 0o777;

  it("is created with mode 0600 in a directory created with 0700", async () => {
    const path = join(dir, "new", "nexus", "config.json");
    await writeConfigFile(path, { url: "http://x", token: "secret" });
    expect(await mode(path)).toBe(0o600);
    expect(await mode(join(dir, "new", "nexus"))).toBe(0o700);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ url: "http://x", token: "secret" });
  });

  it("replaces a world-readable file with a 0600 one", async () => {
    const path = join(dir, "config.json");
    await writeFile(path, '{"url":"http://old"}', { mode: 0o644 });
    const before = await readConfigFile(path);
    expect(before).toEqual({ config: { url: "http://old" }, tooOpen: true });
    await writeConfigFile(path, { url: "http://new", token: "t" });
    expect(await mode(path)).toBe(0o600);
    expect(await readConfigFile(path)).toEqual({ config: { url: "http://new", token: "t" }, tooOpen: false });
  });

  it("reads a missing file as null", async () => {
    expect(await readConfigFile(join(dir, "absent.json"))).toBeNull();
  });

  it("leaves no temporary file behind", async () => {
    const path = join(dir, "config.json");
    await writeConfigFile(path, { url: "http://x" });
    await writeConfigFile(path, { url: "http://y" });
    expect(await readdir(dir)).toEqual(["config.json"]);
  });

  it("reports a directory it cannot write as an error (exit 1)", async () => {
    const blocker = join(dir, "file");
    await writeFile(blocker, "");
    const err = await writeConfigFile(join(blocker, "config.json"), { url: "http://x" }).catch((e) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ exitCode: 1, code: "config_unwritable" });
  });
});
