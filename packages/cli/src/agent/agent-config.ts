/**
 * The agent's config file (YAML): what to watch, which files to render from it, how to check and
 * reload them. Checked with zod; every problem names its line (`agent.yaml:12: sources[0]...`).
 */
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { z } from "zod";

const Name = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "1-63 lowercase letters, digits or '-'");
const Seconds = z.number().positive().max(3600);
const Mode = z
  .union([
    z.string().regex(/^0?[0-7]{3}$/, 'an octal mode such as "0640"'),
    z.number().int().min(0).max(0o777),
  ])
  .transform((m) => (typeof m === "number" ? m : Number.parseInt(m, 8)));
const Signal = z.enum(["SIGHUP", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGINT", "SIGQUIT"]);

export const RenderedFile = z
  .object({
    path: z.string().min(1),
    format: z.enum(["json", "yaml", "env", "template"]),
    /** A handlebars template file; the template sees `config`, `namespace`, `environment`. */
    template: z.string().min(1).optional(),
    mode: Mode.default(0o600),
    /** Numeric owner, applied only when the agent runs as root. */
    uid: z.number().int().min(0).optional(),
    gid: z.number().int().min(0).optional(),
    /** Checks the staged file before it is put in place; `{file}` is its path, e.g. `nginx -t -c {file}`. */
    validate: z.string().min(1).optional(),
    /** `.env` only: a prefix for every variable name. */
    envPrefix: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$|^$/, "letters, digits and '_'")
      .default(""),
  })
  .strict()
  .refine((f) => (f.format === "template") === (f.template !== undefined), {
    message: "`template` is required with format template, and only then",
    path: ["template"],
  });
export type RenderedFile = z.infer<typeof RenderedFile>;

export const AgentSource = z
  .object({
    namespace: Name,
    environment: Name,
    files: z.array(RenderedFile).default([]),
    /** Prefix of the variables a supervised child gets from this source. */
    envPrefix: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$|^$/, "letters, digits and '_'")
      .default(""),
  })
  .strict();
export type AgentSource = z.infer<typeof AgentSource>;

export const Reload = z
  .object({
    /** A command run after the files are in place (no shell), e.g. `nginx -s reload`. */
    command: z.string().min(1).optional(),
    /** Or a signal to a pid, or to the pid in a pid file (read at each reload). */
    signal: Signal.optional(),
    pid: z.number().int().positive().optional(),
    pidFile: z.string().min(1).optional(),
    timeoutSeconds: Seconds.default(10),
  })
  .strict()
  .refine((r) => !(r.command && r.signal), {
    message: "give `command` or `signal`, not both",
    path: ["signal"],
  })
  .refine((r) => !r.signal || (r.pid === undefined) !== (r.pidFile === undefined), {
    message: "`signal` needs exactly one of `pid` or `pidFile`",
    path: ["signal"],
  });
export type Reload = z.infer<typeof Reload>;

export const Supervise = z
  .object({
    /** The child: program and arguments (or given after `--` on the command line). */
    command: z.array(z.string().min(1)).min(1).optional(),
    /** A restarted child counts as reloaded once it has run this long without exiting. */
    readySeconds: Seconds.default(1),
    /** How long a child gets to stop on SIGTERM before SIGKILL. */
    stopSeconds: Seconds.default(10),
  })
  .strict();
export type Supervise = z.infer<typeof Supervise>;

export const AgentConfig = z
  .object({
    /** Who reports in config.applied and heartbeats (the process the agent serves). */
    service: Name,
    instanceId: z.string().min(1).max(200).optional(),
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** The token is read from this file or from NEXUS_TOKEN; never written in this file. */
    tokenFile: z.string().min(1).optional(),
    nats: z
      .object({
        servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
        credsFile: z.string().min(1).optional(),
        inboxPrefix: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    subjectPrefix: z.string().min(1).optional(),
    /** Last-known-good copies, one file per source. */
    cacheDir: z.string().min(1).optional(),
    heartbeatSeconds: z.number().int().min(1).max(86_400).optional(),
    sources: z.array(AgentSource).min(1, "at least one source (namespace and environment)"),
    reload: Reload.optional(),
    supervise: Supervise.optional(),
  })
  .strict()
  .refine((c) => c.url !== undefined || c.nats !== undefined, {
    message: "give `url` (HTTP reads) or `nats`, or both",
    path: ["url"],
  })
  .refine((c) => !(c.reload && c.supervise), {
    message: "a supervised child is restarted on change; `reload` does not apply with `supervise`",
    path: ["reload"],
  });
export type AgentConfig = z.infer<typeof AgentConfig>;

export class AgentConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "AgentConfigError";
  }
}

/** Parse and check the file's text; throws AgentConfigError listing each problem with its line. */
export function parseAgentConfig(text: string, fileName: string): AgentConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new AgentConfigError(
      doc.errors.map((e) => `${fileName}:${lines.linePos(e.pos[0]).line}: ${e.message.split("\n")[0]}`),
    );
  }
  const parsed = AgentConfig.safeParse(doc.toJS() ?? {});
  if (parsed.success) return parsed.data;
  throw new AgentConfigError(
    parsed.error.issues.map((issue) => {
      const line = lineOf(doc, lines, issue.path as (string | number)[]);
      const where = issue.path.length ? `${formatPath(issue.path as (string | number)[])}: ` : "";
      return `${fileName}:${line}: ${where}${issue.message}`;
    }),
  );
}

/** The line of the deepest node of `path` that exists in the document (1 for the root). */
function lineOf(
  doc: ReturnType<typeof parseDocument>,
  lines: LineCounter,
  path: (string | number)[],
): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range && (depth === 0 || isMap(node) || isSeq(node) || node)) return lines.linePos(range[0]).line;
  }
  return 1;
}

export function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
