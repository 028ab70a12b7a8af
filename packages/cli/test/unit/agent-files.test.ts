import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RenderedFile } from "../../src/agent/agent-config.js";
import {
  commitStaged,
  discardStaged,
  restorePrevious,
  StepFailure,
  stageFile,
  validateStaged,
} from "../../src/agent/file-writer.js";
import { commandReloader } from "../../src/agent/reloader.js";

describe("staged files and reload commands", () => {
  let dir: string;
  const file = (over: Partial<RenderedFile> = {}): RenderedFile => ({
    path: join(dir, "app.conf"),
    format: "json",
    mode: 0o640,
    envPrefix: "",
    ...over,
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "nexus-agent-files-"));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("a staged file is hidden beside the target with its mode, and replaces it only on commit", async () => {
    await writeFile(join(dir, "app.conf"), "old\n");
    const staged = await stageFile(file(), "new\n");
    expect(staged.tempPath.startsWith(join(dir, ".app.conf.nexus-"))).toBe(true);
    expect((await stat(staged.tempPath)).mode & 0o777).toBe(0o640);
    expect(await readFile(join(dir, "app.conf"), "utf8")).toBe("old\n");
    await commitStaged(staged);
    expect(await readFile(join(dir, "app.conf"), "utf8")).toBe("new\n");
    expect(await readdir(dir)).toEqual(["app.conf"]);
    await restorePrevious(file(), staged);
    expect(await readFile(join(dir, "app.conf"), "utf8")).toBe("old\n");
    expect((await stat(join(dir, "app.conf"))).mode & 0o777).toBe(0o640);
  });

  it("restoring a file that did not exist before removes it", async () => {
    const staged = await stageFile(file(), "new\n");
    await commitStaged(staged);
    await restorePrevious(file(), staged);
    expect(await readdir(dir)).toEqual([]);
  });

  it("validation runs on the staged copy, and its failure says which command and why", async () => {
    await writeFile(join(dir, "check.sh"), 'grep -q ok "$1" || { echo "not ok: $1" >&2; exit 7; }\n');
    const checked = file({ validate: `sh ${join(dir, "check.sh")} {file}` });
    const good = await stageFile(checked, "ok\n");
    await expect(validateStaged(checked, good, 5_000)).resolves.toBeUndefined();
    const bad = await stageFile(checked, "nope\n");
    const failure = await validateStaged(checked, bad, 5_000).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StepFailure);
    expect((failure as StepFailure).message).toMatch(
      /^validate: sh .* failed on .*app\.conf \(exit code 7\): not ok: .*\.app\.conf\.nexus-/,
    );
    await discardStaged(bad);
    await discardStaged(good);
    expect(await readdir(dir)).toEqual(["check.sh"]);
  });

  it("a reload command that outlives its timeout is a reload failure", async () => {
    const slow = commandReloader({ command: "sleep 5", timeoutSeconds: 0.2 });
    const started = Date.now();
    await expect(slow.reload({})).rejects.toThrow(/^reload: sleep 5 failed \(timed out after 200 ms\)/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("a signal to a missing pid file fails a change, but not the first config", async () => {
    const signal = commandReloader({ signal: "SIGHUP", pidFile: join(dir, "none.pid"), timeoutSeconds: 1 });
    await expect(signal.reload({})).rejects.toThrow(/^reload: could not read the pid file/);
    await expect(signal.reload({}, true)).resolves.toBe("not running yet (no pid file)");
  });
});
