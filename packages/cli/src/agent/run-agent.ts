/**
 * The agent: one @nexus/client per (namespace, environment); each config it is offered is
 * rendered to files, validated, put in place and reloaded before the client acks it. A failure
 * at any step is thrown back to the client, which keeps the previous config and reports
 * `rejected` with the step (`render: …`, `validate: …`, `reload: …`). Heartbeats are the client's.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { connectConfig, isNexusConfigError, type NexusConfig } from "@nexus/client";
import type { AgentConfig, AgentSource } from "./agent-config.js";
import type { AgentLog } from "./agent-log.js";
import {
  commitStaged,
  discardStaged,
  restorePrevious,
  type StagedFile,
  StepFailure,
  stageFile,
  validateStaged,
} from "./file-writer.js";
import { type ChildEnv, commandReloader, noReload, type Reloader, supervisor } from "./reloader.js";
import { compileTemplate, envLines, type RenderInput, renderFile } from "./render-fns.js";

export interface AgentRun {
  config: AgentConfig;
  token: string | undefined;
  /** Given after `--` on the command line; wins over `supervise.command` in the file. */
  childCommand: string[] | undefined;
  log: AgentLog;
  /** Aborting stops the agent (SIGINT/SIGTERM in the CLI). */
  signal: AbortSignal;
  /** Seconds between attempts when a source's first config is refused. Default 5. */
  retrySeconds?: number;
}

type Template = (input: RenderInput) => string;

/** Runs until aborted or until the supervised child exits; resolves to the exit code. */
export async function runAgent(run: AgentRun): Promise<number> {
  const { config, log } = run;
  const templates = await loadTemplates(config);
  const owned = config.sources
    .flatMap((s) => s.files)
    .filter((f) => f.uid !== undefined || f.gid !== undefined);
  if (owned.length > 0 && process.getuid?.() !== 0) {
    log.line("warn", "not running as root: files keep the agent's owner, uid/gid are not applied", {
      files: owned.map((f) => f.path).join(","),
    });
  }
  const contents: (Record<string, unknown> | undefined)[] = config.sources.map(() => undefined);
  const childCommand = run.childCommand?.length ? run.childCommand : config.supervise?.command;
  let childExit: ((code: number) => void) | undefined;
  const childExited = new Promise<number>((resolve) => {
    childExit = resolve;
  });
  const reloader: Reloader = childCommand
    ? supervisor(
        childCommand,
        { readySeconds: 1, stopSeconds: 10, ...config.supervise },
        {
          onExit: (code, signal) => {
            log.line("warn", `the supervised child exited by itself; stopping`, { code, signal });
            childExit?.(code === 0 ? 1 : code);
          },
          log: (message) => log.line("info", message),
        },
      )
    : config.reload
      ? commandReloader(config.reload)
      : noReload();
  const stepTimeoutMs = (config.reload?.timeoutSeconds ?? 10) * 1000;
  let childStarted = false;
  // One source at a time: a reload sees every file of every source consistent.
  let turn: Promise<unknown> = Promise.resolve();
  const serially = <T>(job: () => Promise<T>): Promise<T> => {
    const next = turn.then(job, job);
    turn = next.catch(() => undefined);
    return next;
  };

  const childEnv = (): ChildEnv =>
    Object.fromEntries(
      config.sources.flatMap((s, i) => (contents[i] ? envLines(contents[i]!, s.envPrefix) : [])),
    );

  const applySource = async (index: number, content: Record<string, unknown>, initial: boolean) => {
    const source = config.sources[index]!;
    const started = performance.now();
    const staged = await stageAll(source, content, templates, stepTimeoutMs);
    const changed = staged.some((s) => !s.same);
    for (const s of staged) await commitStaged(s.staged);
    const before = contents[index];
    contents[index] = content;
    let reloaded = "files unchanged; nothing reloaded";
    try {
      if (childCommand) {
        const allIn = contents.every((c) => c !== undefined);
        if (childStarted) reloaded = await reloader.reload(childEnv());
        else if (allIn) {
          await reloader.start(childEnv());
          childStarted = true;
          reloaded = "child started";
        } else reloaded = "child starts once every source has a config";
      } else if (!initial || changed) reloaded = await reloader.reload(childEnv(), initial);
    } catch (err) {
      contents[index] = before;
      for (const s of staged) await restorePrevious(s.file, s.staged);
      throw err;
    }
    log.line("info", `${source.namespace}/${source.environment}: config in place`, {
      files: staged.map((s) => s.file.path).join(","),
      reload: reloaded,
      ms: Math.round(performance.now() - started),
    });
  };

  const reported = (index: number, content: Record<string, unknown>, initial: boolean) =>
    serially(() => applySource(index, content, initial)).catch((err: unknown) => {
      const source = config.sources[index]!;
      const reason = err instanceof StepFailure ? err.message : `render: ${(err as Error).message}`;
      log.line(
        "warn",
        `${source.namespace}/${source.environment}: refused the config; the previous one stays`,
        {
          reason,
        },
      );
      throw new Error(reason);
    });

  const clients: NexusConfig<Record<string, unknown>>[] = [];
  const stopAll = async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await reloader.stop();
  };
  try {
    for (const [index, source] of config.sources.entries()) {
      const client = await connectSource(run, index, source, {
        applyInitial: (content) => reported(index, content, true),
        onChange: (next) => reported(index, next, false),
      });
      if (!client) {
        await stopAll();
        return run.signal.aborted ? 0 : 1;
      }
      clients.push(client);
      log.line("info", `${source.namespace}/${source.environment}: watching`, {
        revision: client.revision,
        source: client.source,
        instanceId: client.instanceId,
      });
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const aborted = new Promise<number>((resolve) => {
    if (run.signal.aborted) resolve(0);
    run.signal.addEventListener("abort", () => resolve(0), { once: true });
  });
  const code = await Promise.race([aborted, childExited]);
  log.line("info", "stopping");
  await serially(stopAll);
  return code;
}

/** Connect one source; a refused first config is retried until it is accepted or the agent stops. */
async function connectSource(
  run: AgentRun,
  index: number,
  source: AgentSource,
  handlers: {
    applyInitial: (content: Record<string, unknown>) => Promise<void>;
    onChange: (next: Record<string, unknown>) => Promise<void>;
  },
): Promise<NexusConfig<Record<string, unknown>> | undefined> {
  const { config, log } = run;
  for (;;) {
    try {
      return await connectConfig({
        namespace: source.namespace,
        environment: source.environment,
        service: config.service,
        instanceId: config.instanceId
          ? `${config.instanceId}${config.sources.length > 1 ? `-${index}` : ""}`
          : undefined,
        url: config.url,
        token: run.token,
        nats: config.nats ? { servers: config.nats.servers } : undefined,
        natsCredentials: config.nats?.credsFile ? { credsFile: config.nats.credsFile } : undefined,
        natsInboxPrefix: config.nats?.inboxPrefix,
        subjectPrefix: config.subjectPrefix,
        cacheFile: config.cacheDir
          ? join(config.cacheDir, `${source.namespace}.${source.environment}.json`)
          : undefined,
        heartbeatSeconds: config.heartbeatSeconds,
        logger: run.log,
        ...handlers,
      });
    } catch (err) {
      if (!isNexusConfigError(err) || err.code !== "initial_rejected" || run.signal.aborted) throw err;
      const wait = run.retrySeconds ?? 5;
      log.line(
        "warn",
        `${source.namespace}/${source.environment}: the first config was refused; trying again in ${wait} s`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      if (run.signal.aborted) return undefined;
    }
  }
}

async function loadTemplates(config: AgentConfig): Promise<Map<string, Template>> {
  const templates = new Map<string, Template>();
  for (const source of config.sources) {
    for (const file of source.files) {
      if (!file.template || templates.has(file.template)) continue;
      const text = await readFile(file.template, "utf8");
      templates.set(file.template, compileTemplate(text));
    }
  }
  return templates;
}

interface StagedRender {
  file: AgentSource["files"][number];
  staged: StagedFile;
  same: boolean;
}

/** Render, stage and validate every file of a source; on any failure nothing is put in place. */
async function stageAll(
  source: AgentSource,
  content: Record<string, unknown>,
  templates: Map<string, Template>,
  timeoutMs: number,
): Promise<StagedRender[]> {
  const input: RenderInput = {
    config: content,
    namespace: source.namespace,
    environment: source.environment,
  };
  const texts = source.files.map((file) => {
    try {
      return renderFile(file, input, file.template ? templates.get(file.template) : undefined);
    } catch (err) {
      throw new StepFailure("render", `${file.path}: ${(err as Error).message.split("\n")[0]}`);
    }
  });
  const staged: StagedRender[] = [];
  try {
    for (const [i, file] of source.files.entries()) {
      const s = await stageFile(file, texts[i]!);
      staged.push({ file, staged: s, same: s.previous?.toString("utf8") === texts[i] });
    }
    for (const s of staged) await validateStaged(s.file, s.staged, timeoutMs);
  } catch (err) {
    await Promise.all(staged.map((s) => discardStaged(s.staged)));
    throw err;
  }
  return staged;
}
