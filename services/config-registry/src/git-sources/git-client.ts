import { execFile } from "node:child_process";
import { lookup } from "node:dns/promises";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkAddress, checkHost, type OutboundPolicy } from "@nexus/kit";
import { redactUrl, repositoryHost } from "./git-source-fns.js";

/** Plaintext credentials for one fetch (revealed from their sealed form just before). */
export interface GitAuth {
  username?: string | undefined;
  token?: string | undefined;
  sshPrivateKey?: string | undefined;
}

export interface CommitInfo {
  author: string;
  email: string;
  message: string;
}

export class GitCommandError extends Error {}

const MAX_OUTPUT = 256 * 1024 * 1024;

/**
 * The `git` binary, run without a shell, on one bare cache repository per source under `cacheDir`.
 * Fetches are shallow (`--depth=1` of the one commit wanted), so a push costs the objects of that
 * commit's changed files, never a clone. Calls for one source are queued: git locks the shallow
 * file and refs while fetching.
 */
export function createGitClient(options: {
  cacheDir: string;
  timeoutMs: number;
  /** The only environment git gets besides its own settings and the credentials: never the service's keys. */
  processEnv: { PATH: string; HOME?: string | undefined };
  /** Loopback/private/link-local addresses git may still reach (GIT_ALLOW_ADDRESSES). */
  allow?: OutboundPolicy["allow"];
}) {
  const policy = { allow: options.allow ?? [] };

  /**
   * Before git connects: every address the source's host name resolves to must be one git may
   * reach, so a name pointing at loopback, a private network or the cloud metadata address is
   * refused (literal addresses were refused when the source was saved, and are checked again).
   * git resolves the name again itself; a DNS answer that changes in between is not caught.
   */
  async function checkRemote(url: string): Promise<void> {
    const host = repositoryHost(url);
    if (host === null) return;
    const literal = checkHost(host, policy);
    if (!literal.ok) throw new GitCommandError(`git may not connect to ${host}: ${literal.reason}`);
    if (isIP(host)) return;
    const addresses = await lookup(host, { all: true }).catch(() => []);
    for (const { address } of addresses) {
      const verdict = checkAddress(address, policy);
      if (!verdict.ok) throw new GitCommandError(`git may not connect to ${host}: ${verdict.reason}`);
    }
  }
  const queues = new Map<string, Promise<unknown>>();

  function serial<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    queues.set(key, next);
    void next
      .finally(() => {
        if (queues.get(key) === next) queues.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  function run(
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
  ): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        "git",
        args,
        {
          cwd: opts.cwd,
          env: { ...options.processEnv, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...opts.env },
          encoding: "buffer",
          maxBuffer: MAX_OUTPUT,
          timeout: options.timeoutMs,
        },
        (err, stdout, stderr) => {
          if (err) {
            const why =
              redactUrl(stderr.toString("utf8").trim().split("\n").slice(-3).join("; ")) || err.message;
            reject(new GitCommandError(`git ${args[0]} failed: ${why}`));
          } else resolve(stdout);
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  }

  /** Environment carrying the credentials (never in argv, which other users can list). */
  async function withAuth<T>(auth: GitAuth | null, work: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
    if (!auth) return work({});
    const env: NodeJS.ProcessEnv = {};
    let keyDir: string | undefined;
    if (auth.token !== undefined) {
      const basic = Buffer.from(`${auth.username ?? "x-access-token"}:${auth.token}`).toString("base64");
      env.GIT_CONFIG_COUNT = "1";
      env.GIT_CONFIG_KEY_0 = "http.extraHeader";
      env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic}`;
    }
    if (auth.sshPrivateKey !== undefined) {
      keyDir = await mkdtemp(join(tmpdir(), "nexus-git-key-"));
      const keyFile = join(keyDir, "id");
      await writeFile(keyFile, `${auth.sshPrivateKey.trim()}\n`, { mode: 0o600 });
      env.GIT_SSH_COMMAND = `ssh -i '${keyFile}' -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o BatchMode=yes`;
    }
    try {
      return await work(env);
    } finally {
      if (keyDir) await rm(keyDir, { recursive: true, force: true });
    }
  }

  const dirOf = (sourceId: string) => join(options.cacheDir, `${sourceId}.git`);

  async function ensureRepo(sourceId: string, url: string): Promise<string> {
    const dir = dirOf(sourceId);
    const exists = await stat(join(dir, "HEAD")).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(dir, { recursive: true });
      await run(["init", "--bare", "--quiet", dir]);
      await run(["remote", "add", "origin", url], { cwd: dir });
    } else {
      await run(["config", "remote.origin.url", url], { cwd: dir });
    }
    return dir;
  }

  return {
    dirOf,

    /**
     * Fetch one commit (by id, or a branch's head) into the source's cache; returns the commit id.
     * The cache keeps what earlier fetches brought, so unchanged blobs are not sent again.
     */
    fetch(sourceId: string, url: string, auth: GitAuth | null, what: string): Promise<string> {
      return serial(sourceId, async () => {
        await checkRemote(url);
        const dir = await ensureRepo(sourceId, url);
        await withAuth(auth, (env) =>
          run(
            [
              "fetch",
              "--quiet",
              "--depth=1",
              "--no-tags",
              "--no-write-fetch-head",
              "origin",
              `+${refspecOf(what)}`,
            ],
            {
              cwd: dir,
              env,
            },
          ),
        );
        return (await run(["rev-parse", "--verify", `${localRefOf(what)}^{commit}`], { cwd: dir }))
          .toString()
          .trim();
      });
    },

    /** Branch heads on the remote (`git ls-remote`), without fetching anything. */
    lsRemote(
      sourceId: string,
      url: string,
      auth: GitAuth | null,
      branches: string[],
    ): Promise<Map<string, string>> {
      return serial(sourceId, async () => {
        await checkRemote(url);
        const dir = await ensureRepo(sourceId, url);
        const out = await withAuth(auth, (env) =>
          run(["ls-remote", "origin", ...branches.map((b) => `refs/heads/${b}`)], { cwd: dir, env }),
        );
        const heads = new Map<string, string>();
        for (const line of out.toString("utf8").split("\n")) {
          const [sha, ref] = line.split("\t");
          if (sha && ref?.startsWith("refs/heads/")) heads.set(ref.slice("refs/heads/".length), sha);
        }
        return heads;
      });
    },

    async commitInfo(sourceId: string, sha: string): Promise<CommitInfo> {
      const out = await run(["log", "-1", "--format=%an%x00%ae%x00%B", sha], { cwd: dirOf(sourceId) });
      const [author = "", email = "", message = ""] = out.toString("utf8").split("\0");
      return { author, email, message: message.trim() };
    },

    /** The files at a commit, in one `git cat-file --batch`; null for a path the commit does not have. */
    async readFiles(
      sourceId: string,
      sha: string,
      paths: readonly string[],
    ): Promise<Map<string, Buffer | null>> {
      const files = new Map<string, Buffer | null>();
      if (paths.length === 0) return files;
      const out = await run(["cat-file", "--batch"], {
        cwd: dirOf(sourceId),
        input: paths.map((p) => `${sha}:${p}\n`).join(""),
      });
      let at = 0;
      for (const path of paths) {
        const eol = out.indexOf(0x0a, at);
        const head = out.subarray(at, eol).toString("utf8");
        at = eol + 1;
        if (head.endsWith(" missing") || head.endsWith(" ambiguous")) {
          files.set(path, null);
          continue;
        }
        const [, type, size] = head.split(" ");
        const length = Number(size);
        files.set(path, type === "blob" ? out.subarray(at, at + length) : null);
        at += length + 1;
      }
      return files;
    },
  };
}
export type GitClient = ReturnType<typeof createGitClient>;

const isSha = (what: string) => /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(what);
/** A commit id is fetched as itself; a branch into `refs/remotes/origin/<branch>`. */
const refspecOf = (what: string) =>
  isSha(what) ? `${what}:refs/nexus/fetched` : `refs/heads/${what}:refs/remotes/origin/${what}`;
const localRefOf = (what: string) => (isSha(what) ? what : `refs/remotes/origin/${what}`);
