/** What every command starts from: the global options turned into settings, a client and an output. */
import type { Command } from "commander";
import { ApiClient } from "./api-client.js";
import { readConfigFile } from "./config-file.js";
import { configPath, resolveSettings, type Settings, type StoredConfig } from "./config-fns.js";
import { DriftClient } from "./drift-client.js";
import { usageError } from "./exit-codes.js";
import { colorEnabled, type Io, Output } from "./output/output.js";

/** Options every command accepts (declared once, on the program). */
export interface GlobalOptions {
  url?: string;
  driftUrl?: string;
  token?: string;
  config?: string;
  json?: boolean;
  color?: boolean;
}

export class Context {
  readonly io: Io;
  readonly options: GlobalOptions;
  readonly out: Output;
  readonly configPath: string;
  #stored: StoredConfig | null | undefined;

  constructor(io: Io, options: GlobalOptions) {
    this.io = io;
    this.options = options;
    this.out = new Output(io, { json: options.json === true, color: colorEnabled(io, options.color) });
    this.configPath = configPath(options.config, io.env, io.home);
  }

  /** The config file's content (null when there is none); warns once when others can read it. */
  async stored(): Promise<StoredConfig | null> {
    if (this.#stored !== undefined) return this.#stored;
    const loaded = await readConfigFile(this.configPath);
    if (loaded?.tooOpen && loaded.config.token) {
      this.out.note(
        `warning: ${this.configPath} holds a token and other users can read it; run: chmod 600 ${this.configPath}`,
      );
    }
    this.#stored = loaded?.config ?? null;
    return this.#stored;
  }

  async settings(): Promise<Settings> {
    return resolveSettings({
      flags: this.options,
      env: this.io.env,
      file: await this.stored(),
    });
  }

  /** A client for the configured registry; a usage error (exit 2) when none is configured. */
  async client(): Promise<ApiClient> {
    const s = await this.settings();
    if (!s.url) {
      throw usageError(
        "no registry configured",
        "url",
        "Run `nexus login <url>`, or pass --url / set NEXUS_URL.",
      );
    }
    return new ApiClient({
      baseUrl: s.url,
      token: s.token,
      tokenSource: this.tokenSourceWords(s.tokenSource),
    });
  }

  /** Where the token came from, as an error message names it. */
  tokenSourceWords(source: Settings["tokenSource"]): string | undefined {
    if (source === "flag") return "--token";
    if (source === "env") return "NEXUS_TOKEN";
    if (source === "config") return `the config file ${this.configPath}`;
    return undefined;
  }
}

/** A client for the configured drift-detector; a usage error (exit 2) when none is configured. */
export async function driftClientOf(ctx: Context): Promise<DriftClient> {
  const s = await ctx.settings();
  if (!s.driftUrl) {
    throw usageError(
      "no drift-detector configured",
      "driftUrl",
      'Pass --drift-url or set NEXUS_DRIFT_URL (or "driftUrl" in the config file), e.g. http://127.0.0.1:4200.',
    );
  }
  return new DriftClient({ baseUrl: s.driftUrl, token: s.token });
}

export const contextOf = (io: Io, command: Command) =>
  new Context(io, command.optsWithGlobals<GlobalOptions>());
