import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { sign as signGithub } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";

/**
 * What each forge sends for a branch push: the exact headers and the payload's shape (GitHub's
 * from @octokit/webhooks-examples, the others written from their documentation), signed with the
 * test secret.
 */
export interface Push {
  repository: string;
  branch: string;
  before: string;
  after: string;
  /** Files per commit; the forges list added/modified/removed per commit. */
  commits: { id: string; message: string; added?: string[]; modified?: string[]; removed?: string[] }[];
}

export interface Delivery {
  headers: Record<string, string>;
  body: string;
  deliveryId: string;
}

const require = createRequire(import.meta.url);
type Example = { name: string; examples: Record<string, unknown>[] };
const githubExamples = require("@octokit/webhooks-examples") as Example[];

/** GitHub's example push to a branch (refs/heads/master, one commit), re-aimed at our push. */
function githubPushExample(): Record<string, unknown> {
  const push = githubExamples.find((e) => e.name === "push")!;
  const branchPush = push.examples.find((e) => String(e.ref).startsWith("refs/heads/"))!;
  return structuredClone(branchPush);
}

const commitsOf = (push: Push) =>
  push.commits.map((c) => ({
    id: c.id,
    message: c.message,
    timestamp: new Date().toISOString(),
    author: { name: "Alice Example", email: "alice@example.test" },
    added: c.added ?? [],
    modified: c.modified ?? [],
    removed: c.removed ?? [],
  }));

export async function githubPush(push: Push, secret: string, event = "push"): Promise<Delivery> {
  const payload = githubPushExample();
  const [owner, name] = push.repository.split("/");
  const repository = payload.repository as Record<string, unknown>;
  Object.assign(repository, {
    full_name: push.repository,
    name,
    owner: { ...(repository.owner as object), login: owner, name: owner },
  });
  const commits = commitsOf(push).map((c) => ({
    ...c,
    tree_id: c.id,
    distinct: true,
    url: `https://github.com/${push.repository}/commit/${c.id}`,
    committer: c.author,
  }));
  Object.assign(payload, {
    ref: `refs/heads/${push.branch}`,
    before: push.before,
    after: push.after,
    created: /^0+$/.test(push.before),
    deleted: false,
    commits,
    head_commit: commits[commits.length - 1] ?? null,
  });
  const body = JSON.stringify(payload);
  const deliveryId = randomUUID();
  return {
    body,
    deliveryId,
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/f1aa6e4",
      "x-github-event": event,
      "x-github-delivery": deliveryId,
      "x-github-hook-id": "292430182",
      "x-github-hook-installation-target-id": "79929171",
      "x-github-hook-installation-target-type": "repository",
      "x-hub-signature": `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`,
      "x-hub-signature-256": await signGithub(secret, body),
    },
  };
}

/** GitLab "Push Hook" (docs: Webhook events, Push events); token auth, or Standard Webhooks signing. */
export function gitlabPush(
  push: Push,
  token: string,
  signing?: { secret: string; timestamp?: Date },
): Delivery {
  const [group, name] = push.repository.split("/");
  const web = `https://gitlab.example.test/${push.repository}`;
  const payload = {
    object_kind: "push",
    event_name: "push",
    before: push.before,
    after: push.after,
    ref: `refs/heads/${push.branch}`,
    ref_protected: true,
    checkout_sha: push.after,
    message: null,
    user_id: 4,
    user_name: "Alice Example",
    user_username: "alice",
    user_email: "",
    user_avatar: "https://gitlab.example.test/uploads/user/avatar/4/avatar.png",
    project_id: 15,
    project: {
      id: 15,
      name,
      description: "Configuration",
      web_url: web,
      avatar_url: null,
      git_ssh_url: `git@gitlab.example.test:${push.repository}.git`,
      git_http_url: `${web}.git`,
      namespace: group,
      visibility_level: 0,
      path_with_namespace: push.repository,
      default_branch: "main",
      ci_config_path: null,
      homepage: web,
      url: `git@gitlab.example.test:${push.repository}.git`,
      ssh_url: `git@gitlab.example.test:${push.repository}.git`,
      http_url: `${web}.git`,
    },
    commits: commitsOf(push).map((c) => ({
      ...c,
      title: c.message.split("\n")[0],
      url: `${web}/-/commit/${c.id}`,
    })),
    total_commits_count: push.commits.length,
    push_options: {},
    repository: {
      name,
      url: `git@gitlab.example.test:${push.repository}.git`,
      description: "Configuration",
      homepage: web,
      git_http_url: `${web}.git`,
      git_ssh_url: `git@gitlab.example.test:${push.repository}.git`,
      visibility_level: 0,
    },
  };
  const body = JSON.stringify(payload);
  const deliveryId = randomUUID();
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "GitLab/17.5.0",
    "x-gitlab-event": "Push Hook",
    "x-gitlab-token": token,
    "x-gitlab-instance": "https://gitlab.example.test",
    "x-gitlab-webhook-uuid": "a1b2c3d4-0000-4000-8000-000000000001",
    "x-gitlab-event-uuid": deliveryId,
    "idempotency-key": deliveryId,
  };
  if (signing) {
    const id = `msg_${deliveryId}`;
    const at = signing.timestamp ?? new Date();
    headers["webhook-id"] = id;
    headers["webhook-timestamp"] = String(Math.floor(at.getTime() / 1000));
    headers["webhook-signature"] = new Webhook(signing.secret).sign(id, at, body);
    return { headers, body, deliveryId: id };
  }
  return { headers, body, deliveryId };
}

/** Gitea push (docs: Webhooks; GitHub-like payload, HMAC in X-Gitea-Signature). */
export function giteaPush(push: Push, secret: string): Delivery {
  const [owner, name] = push.repository.split("/");
  const web = `https://gitea.example.test/${push.repository}`;
  const user = { id: 1, login: owner, full_name: "", email: "alice@example.test", username: owner };
  const commits = commitsOf(push).map((c) => ({
    ...c,
    url: `${web}/commit/${c.id}`,
    author: { ...c.author, username: "alice" },
    committer: { ...c.author, username: "alice" },
    verification: null,
  }));
  const payload = {
    ref: `refs/heads/${push.branch}`,
    before: push.before,
    after: push.after,
    compare_url: `${web}/compare/${push.before}...${push.after}`,
    commits,
    total_commits: commits.length,
    head_commit: commits[commits.length - 1] ?? null,
    repository: {
      id: 1,
      owner: user,
      name,
      full_name: push.repository,
      private: true,
      fork: false,
      html_url: web,
      ssh_url: `git@gitea.example.test:${push.repository}.git`,
      clone_url: `${web}.git`,
      default_branch: "main",
    },
    pusher: user,
    sender: user,
  };
  const body = JSON.stringify(payload);
  const deliveryId = randomUUID();
  const hex = createHmac("sha256", secret).update(body).digest("hex");
  return {
    body,
    deliveryId,
    headers: {
      "content-type": "application/json",
      "user-agent": "Go-http-client/1.1",
      "x-gitea-delivery": deliveryId,
      "x-gitea-event": "push",
      "x-gitea-event-type": "push",
      "x-gitea-signature": hex,
      "x-github-delivery": deliveryId,
      "x-github-event": "push",
      "x-github-event-type": "push",
      "x-gogs-delivery": deliveryId,
      "x-gogs-event": "push",
      "x-gogs-event-type": "push",
      "x-gogs-signature": hex,
      "x-hub-signature": `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`,
      "x-hub-signature-256": `sha256=${hex}`,
    },
  };
}

/** Bitbucket Cloud `repo:push` (docs: Event payloads); lists no files, signed in X-Hub-Signature. */
export function bitbucketPush(push: Push, secret: string, event = "repo:push"): Delivery {
  const web = `https://bitbucket.org/${push.repository}`;
  const actor = {
    type: "user",
    display_name: "Alice Example",
    uuid: "{5b2c3b54-0000-4000-8000-000000000002}",
    nickname: "alice",
  };
  const target = (hash: string) => ({
    type: "commit",
    hash,
    message: push.commits.at(-1)?.message ?? "",
    author: { type: "author", raw: "Alice Example <alice@example.test>" },
    date: new Date().toISOString(),
    links: { html: { href: `${web}/commits/${hash}` } },
  });
  const payload = {
    push: {
      changes: [
        {
          old: /^0+$/.test(push.before)
            ? null
            : { type: "branch", name: push.branch, target: target(push.before) },
          new: { type: "branch", name: push.branch, target: target(push.after) },
          created: /^0+$/.test(push.before),
          forced: false,
          closed: false,
          truncated: false,
          commits: push.commits.map((c) => ({ type: "commit", hash: c.id, message: c.message })),
          links: { html: { href: `${web}/branches/compare/${push.after}..${push.before}` } },
        },
      ],
    },
    repository: {
      type: "repository",
      full_name: push.repository,
      name: push.repository.split("/")[1],
      uuid: "{7c1d2e3f-0000-4000-8000-000000000003}",
      is_private: true,
      links: { html: { href: web } },
      workspace: { type: "workspace", slug: push.repository.split("/")[0] },
    },
    actor,
  };
  const body = JSON.stringify(payload);
  const deliveryId = randomUUID();
  return {
    body,
    deliveryId,
    headers: {
      "content-type": "application/json",
      "user-agent": "Bitbucket-Webhooks/2.0",
      "x-event-key": event,
      "x-hook-uuid": "2c5d0e9a-0000-4000-8000-000000000004",
      "x-request-uuid": deliveryId,
      "x-attempt-number": "1",
      "x-hub-signature": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
  };
}
