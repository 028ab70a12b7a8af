import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A real Git remote (bare repository) and a working clone, in a temp directory; `file://` URL. */
export async function createGitRepo(options: { defaultBranch?: string } = {}) {
  const root = await mkdtemp(join(tmpdir(), "nexus-git-repo-"));
  const origin = join(root, "origin.git");
  const work = join(root, "work");
  const branch = options.defaultBranch ?? "main";
  const git = async (...args: string[]) =>
    (await run("git", args, { cwd: work, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
  await run("git", ["init", "--quiet", "--bare", `--initial-branch=${branch}`, origin]);
  await run("git", ["init", "--quiet", `--initial-branch=${branch}`, work]);
  await git("remote", "add", "origin", origin);
  await git("config", "user.name", "Test Runner");
  await git("config", "user.email", "runner@example.test");
  await git("config", "commit.gpgsign", "false");

  return {
    url: `file://${origin}`,
    git,
    /** Write (string) or delete (null) files, commit as `author`, return the commit id. */
    async commit(
      files: Record<string, string | null>,
      message: string,
      author = { name: "Alice Example", email: "alice@example.test" },
    ): Promise<string> {
      for (const [path, content] of Object.entries(files)) {
        const full = join(work, path);
        if (content === null) await unlink(full);
        else {
          await mkdir(dirname(full), { recursive: true });
          await writeFile(full, content);
        }
      }
      await git("add", "-A");
      await git(
        "-c",
        `user.name=${author.name}`,
        "-c",
        `user.email=${author.email}`,
        "commit",
        "--quiet",
        "-m",
        message,
      );
      return git("rev-parse", "HEAD");
    },
    async checkout(name: string, create = false) {
      await git("checkout", "--quiet", ...(create ? ["-b"] : []), name);
    },
    /** Push the current branch; returns [before, after] on the remote. */
    async push(name = branch): Promise<{ before: string; after: string }> {
      const before = await git("ls-remote", "origin", `refs/heads/${name}`).then(
        (o) => o.split("\t")[0] || "0".repeat(40),
      );
      await git("push", "--quiet", "origin", `HEAD:refs/heads/${name}`);
      return { before, after: await git("rev-parse", "HEAD") };
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
export type GitRepo = Awaited<ReturnType<typeof createGitRepo>>;
