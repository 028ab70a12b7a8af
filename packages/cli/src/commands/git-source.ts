// biome-ignore-all lint/suspicious/noExplicitAny: bodies are printed as the registry sends them (its OpenAPI document describes them)
/** `nexus git-source create | list | show | update | delete | imports | resync`: Git sources (admins only). */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { CliError, ExitCode, errorFromResponse, type ServerErrorBody, usageError } from "../exit-codes.js";
import type { Io } from "../output/output.js";
import { collect, positiveInt } from "./args.js";

const seg = encodeURIComponent;

async function call(command: Command, io: Io, method: string, path: string, body?: unknown): Promise<any> {
  const settings = await contextOf(io, command).settings();
  if (!settings.url)
    throw usageError(
      "no registry configured",
      "url",
      "Run `nexus login <url>`, or pass --url / set NEXUS_URL.",
    );
  const headers: Record<string, string> = { accept: "application/json", "user-agent": "nexus-cli/0.1.0" };
  if (settings.token) headers.authorization = `Bearer ${settings.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(settings.url + path, {
      method,
      headers,
      // A resync fetches the repository: give it longer than an ordinary request.
      signal: AbortSignal.timeout(path.endsWith("/resync") ? 300_000 : 30_000),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    throw new CliError(`cannot reach the registry at ${settings.url} (${code ?? (err as Error).message})`, {
      exitCode: ExitCode.error,
      code: "unreachable",
      cause: err,
    });
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok)
    throw errorFromResponse(
      res.status,
      res.statusText,
      (json as { error?: ServerErrorBody } | undefined)?.error,
    );
  return json;
}

/** `production=main` pairs. */
function environmentsOf(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const [env, branch] = pair.split("=");
    if (!env || !branch) throw usageError(`--env takes environment=branch, not "${pair}"`, "env");
    out[env] = branch;
  }
  return out;
}

interface SourceOptions {
  provider?: string;
  repoUrl?: string;
  repository?: string;
  namespace?: string[];
  env?: string[];
  baseBranch?: string;
  noBase?: boolean;
  basePath?: string;
  envPath?: string;
  username?: string;
  tokenEnv?: string;
  sshKeyFile?: string;
  webhookSecretEnv?: string;
  signingSecretEnv?: string;
}

/** Secrets come from environment variables or files, never from argv (other users can list it). */
async function secretsOf(o: SourceOptions, env: Readonly<NodeJS.ProcessEnv>) {
  const fromEnv = (name: string | undefined, flag: string) => {
    if (name === undefined) return undefined;
    const value = env[name];
    if (!value) throw usageError(`${flag}: the environment variable ${name} is empty or not set`, flag);
    return value;
  };
  const token = fromEnv(o.tokenEnv, "--token-env");
  const sshPrivateKey = o.sshKeyFile ? await readFile(o.sshKeyFile, "utf8") : undefined;
  return {
    ...(token || sshPrivateKey ? { credentials: { username: o.username, token, sshPrivateKey } } : {}),
    webhookSecret: fromEnv(o.webhookSecretEnv, "--webhook-secret-env"),
    signingSecret: fromEnv(o.signingSecretEnv, "--signing-secret-env"),
  };
}

function sourceLines(s: any): string {
  const envs = Object.entries(s.environments as Record<string, string>)
    .map(([e, b]) => `${e}<-${b}`)
    .join(", ");
  return [
    `${s.name}  ${s.provider}  ${s.repository}  (${s.url})`,
    `  namespaces: ${s.namespaces.join(", ")}`,
    `  branches:   ${envs}${s.baseBranch ? `, base<-${s.baseBranch}` : ""}`,
    `  layout:     ${s.layout.base} | ${s.layout.environment}`,
    `  secrets:    webhook ${s.hasWebhookSecret ? "set" : "none"}, credentials ${s.hasCredentials ? "set" : "none"}${s.hasSigningSecret ? ", signing set" : ""}`,
  ].join("\n");
}

function sourceOptions(c: Command): Command {
  return c
    .option("--repository <owner/name>", "the name webhooks carry (default: from the URL)")
    .option("--namespace <ns>", "a namespace to bind (repeatable)", collect)
    .option(
      "--env <environment=branch>",
      "the branch an environment's overlay comes from (repeatable)",
      collect,
    )
    .option("--base-branch <branch>", "the branch base layers come from")
    .option("--base-path <template>", "default config/<namespace>/base.yaml")
    .option("--env-path <template>", "default config/<namespace>/<environment>.yaml")
    .option("--username <name>", "https username (default x-access-token)")
    .option("--token-env <VAR>", "environment variable holding an https token")
    .option("--ssh-key-file <path>", "a private key file for ssh URLs")
    .option("--webhook-secret-env <VAR>", "environment variable holding the webhook secret")
    .option("--signing-secret-env <VAR>", "GitLab: environment variable holding a whsec_ signing secret");
}

export function registerGitSource(program: Command, io: Io): void {
  const git = program
    .command("git-source")
    .description("Git repositories namespaces follow (needs the admin role)");

  sourceOptions(
    git
      .command("create")
      .description("bind namespaces to a Git repository; its files then become their layers")
      .argument("<name>", "a name for the source")
      .requiredOption("--provider <provider>", "github, gitlab, gitea or bitbucket")
      .requiredOption("--repo-url <url>", "the repository: https://, ssh://, git@host:path or file:// URL"),
  ).action(async (name: string, o: SourceOptions, command: Command) => {
    const out = contextOf(io, command).out;
    const layout =
      o.basePath || o.envPath
        ? {
            layout: {
              ...(o.basePath ? { base: o.basePath } : {}),
              ...(o.envPath ? { environment: o.envPath } : {}),
            },
          }
        : {};
    const created = await call(command, io, "POST", "/v1/git-sources", {
      name,
      provider: o.provider,
      url: o.repoUrl,
      ...(o.repository ? { repository: o.repository } : {}),
      namespaces: o.namespace ?? [],
      environments: environmentsOf(o.env ?? []),
      baseBranch: o.baseBranch ?? null,
      ...layout,
      ...(await secretsOf(o, io.env)),
    });
    if (out.json) out.data(created);
    else
      out.text(
        `created Git source ${name}\n${sourceLines(created)}\nwebhook URL: <registry>/v1/webhooks/${created.provider}`,
      );
  });

  sourceOptions(
    git
      .command("update")
      .description("change a source (only the options given)")
      .argument("<name>")
      .option("--repo-url <url>", "a new repository URL"),
  )
    .option("--no-base", "stop following base layers in Git")
    .action(async (name: string, o: SourceOptions & { base?: boolean }, command: Command) => {
      const out = contextOf(io, command).out;
      const body: Record<string, unknown> = { ...(await secretsOf(o, io.env)) };
      if (o.repoUrl) body.url = o.repoUrl;
      if (o.repository) body.repository = o.repository;
      if (o.namespace) body.namespaces = o.namespace;
      if (o.env) body.environments = environmentsOf(o.env);
      if (o.baseBranch) body.baseBranch = o.baseBranch;
      if (o.base === false) body.baseBranch = null;
      if (o.basePath || o.envPath) {
        const current = await call(command, io, "GET", `/v1/git-sources/${seg(name)}`);
        body.layout = {
          base: o.basePath ?? current.layout.base,
          environment: o.envPath ?? current.layout.environment,
        };
      }
      const updated = await call(command, io, "PATCH", `/v1/git-sources/${seg(name)}`, body);
      if (out.json) out.data(updated);
      else out.text(`updated Git source ${name}\n${sourceLines(updated)}`);
    });

  git
    .command("list")
    .description("list Git sources")
    .action(async (_o: object, command: Command) => {
      const out = contextOf(io, command).out;
      const { items } = await call(command, io, "GET", "/v1/git-sources");
      if (out.json) out.data({ sources: items });
      else out.text(items.length === 0 ? "no Git sources" : items.map(sourceLines).join("\n\n"));
    });

  git
    .command("show")
    .description("a source, the layers it owns and what was last imported into each")
    .argument("<name>")
    .action(async (name: string, _o: object, command: Command) => {
      const out = contextOf(io, command).out;
      const source = await call(command, io, "GET", `/v1/git-sources/${seg(name)}`);
      const { items } = await call(command, io, "GET", `/v1/git-sources/${seg(name)}/layers`);
      if (out.json) return out.data({ ...source, layers: items });
      const layers = items.map(
        (l: any) =>
          `  ${l.namespace}/${l.layer}  <- ${l.path}@${l.branch}  ${l.commit ? `imported ${l.commit.slice(0, 12)} (revision ${l.revision})` : "not imported yet"}${l.overriddenBy ? `  overridden by ${l.overriddenBy} at revision ${l.overrideRevision}` : ""}`,
      );
      out.text(`${sourceLines(source)}\n  layers:\n${layers.join("\n")}`);
    });

  git
    .command("delete")
    .description("delete a source; its layers keep their content and become writable again")
    .argument("<name>")
    .action(async (name: string, _o: object, command: Command) => {
      await call(command, io, "DELETE", `/v1/git-sources/${seg(name)}`);
      contextOf(io, command).out.text(`deleted Git source ${name}`);
    });

  git
    .command("imports")
    .description("recent imports, with the file, line and reason of each failure")
    .argument("<name>")
    .option("--limit <n>", "how many (default 20)", positiveInt(500))
    .action(async (name: string, o: { limit?: number }, command: Command) => {
      const out = contextOf(io, command).out;
      const { items } = await call(
        command,
        io,
        "GET",
        `/v1/git-sources/${seg(name)}/imports?limit=${o.limit ?? 20}`,
      );
      if (out.json) return out.data({ imports: items });
      if (items.length === 0) return out.text("no imports yet");
      const lines: string[] = [];
      for (const i of items) {
        lines.push(
          `${i.createdAt}  ${i.branch}@${i.commit.slice(0, 12)}  ${i.trigger}  ${i.status}  ${i.layers.length} layer(s)  ${i.author ?? ""}`,
        );
        for (const p of i.problems)
          lines.push(`    ${p.path || "(repository)"}${p.line ? `:${p.line}` : ""}  ${p.reason}`);
      }
      out.text(lines.join("\n"));
    });

  git
    .command("resync")
    .description("import every layout file at the branch heads now")
    .argument("<name>")
    .option("--branch <branch>", "only this branch")
    .action(async (name: string, o: { branch?: string }, command: Command) => {
      const out = contextOf(io, command).out;
      const res = await call(
        command,
        io,
        "POST",
        `/v1/git-sources/${seg(name)}/resync`,
        o.branch ? { branch: o.branch } : {},
      );
      if (out.json) return out.data(res);
      out.text(
        res.results
          .map(
            (r: any) =>
              `${r.branch}: ${r.status}${r.commit ? ` at ${r.commit.slice(0, 12)}` : ""}${r.problems.length ? ` (${r.problems.map((p: any) => `${p.path}: ${p.reason}`).join("; ")})` : ""}`,
          )
          .join("\n"),
      );
      if (res.results.some((r: any) => r.status === "failed"))
        throw new CliError("an import failed; nothing from that commit was applied", {
          exitCode: ExitCode.error,
          code: "import_failed",
        });
    });
}
