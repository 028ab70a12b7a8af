/** Where the CLI's settings come from and what makes them valid. No I/O. */
import { join } from "node:path";
import { usageError } from "./exit-codes.js";

/** What `nexus login` stores. */
export interface StoredConfig {
  url?: string | undefined;
  /** The drift-detector (instances, findings); set by hand or NEXUS_DRIFT_URL. */
  driftUrl?: string | undefined;
  token?: string | undefined;
}

/** The settings a command runs with, and where each came from. */
export interface Settings {
  url: string | undefined;
  urlSource: "flag" | "env" | "config" | undefined;
  driftUrl: string | undefined;
  token: string | undefined;
  tokenSource: "flag" | "env" | "config" | undefined;
}

export interface SettingsInput {
  flags: {
    url?: string | undefined;
    driftUrl?: string | undefined;
    token?: string | undefined;
  };
  env: NodeJS.ProcessEnv;
  file: StoredConfig | null;
}

/** `--config` > `NEXUS_CONFIG` > `$XDG_CONFIG_HOME/nexus/config.json` > `~/.config/nexus/config.json`. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv, home: string): string {
  if (flag) return flag;
  if (env.NEXUS_CONFIG) return env.NEXUS_CONFIG;
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg?.startsWith("/") ? xdg : join(home, ".config");
  return join(base, "nexus", "config.json");
}

/** Flags beat environment variables, which beat the config file. */
export function resolveSettings(input: SettingsInput): Settings {
  const { flags, env, file } = input;
  const pick = <T>(...candidates: [T | undefined, Settings["urlSource"]][]) => {
    for (const [value, source] of candidates) if (value) return { value, source };
    return { value: undefined, source: undefined };
  };
  const url = pick([flags.url, "flag"], [env.NEXUS_URL, "env"], [file?.url, "config"]);
  const driftUrl = pick([flags.driftUrl, "flag"], [env.NEXUS_DRIFT_URL, "env"], [file?.driftUrl, "config"]);
  const token = pick([flags.token, "flag"], [env.NEXUS_TOKEN, "env"], [file?.token, "config"]);
  return {
    url: url.value === undefined ? undefined : normalizeRegistryUrl(url.value, url.source ?? "flag"),
    urlSource: url.source,
    driftUrl:
      driftUrl.value === undefined
        ? undefined
        : normalizeRegistryUrl(driftUrl.value, driftUrl.source ?? "flag", DRIFT_URL_NAMES),
    token: token.value,
    tokenSource: token.source,
  };
}

const REGISTRY_URL_NAMES = { flag: "--url", env: "NEXUS_URL", config: "the config file's url" };
const DRIFT_URL_NAMES = { flag: "--drift-url", env: "NEXUS_DRIFT_URL", config: "the config file's driftUrl" };

/**
 * A registry URL as stored and used: http(s), no credentials, query or fragment, no trailing
 * slash (a path prefix such as `https://host/nexus` is kept).
 */
export function normalizeRegistryUrl(
  raw: string,
  source: Settings["urlSource"] = "flag",
  names: Record<"flag" | "env" | "config", string> = REGISTRY_URL_NAMES,
): string {
  const where = names[source ?? "flag"];
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw usageError(`${where} is not a URL: ${JSON.stringify(redactUrl(raw))}`, "url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`${where} must start with http:// or https://, not ${url.protocol}//`, "url");
  }
  if (url.username || url.password) {
    throw usageError(`${where} must not carry credentials; pass the token with --token instead`, "url");
  }
  if (url.search || url.hash) {
    throw usageError(`${where} must not have a query or fragment`, "url");
  }
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path}`;
}

/** Credentials in a URL (anything before an `@`) are never echoed back, even when it does not parse. */
export function redactUrl(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@]*@/i, "$1***@");
}

/** Parses the config file's text; anything unexpected is a usage error naming the file. */
export function parseStoredConfig(text: string, path: string): StoredConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw usageError(`the config file ${path} is not valid JSON; fix it or run \`nexus login\` again`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw usageError(`the config file ${path} must hold a JSON object`);
  }
  const out: StoredConfig = {};
  // Keys the CLI no longer uses (such as `author`, before tokens named the author) are ignored.
  for (const key of ["url", "driftUrl", "token"] as const) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (typeof v !== "string") throw usageError(`the config file ${path}: "${key}" must be a string`, key);
    out[key] = v;
  }
  return out;
}
