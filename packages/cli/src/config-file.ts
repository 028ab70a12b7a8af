/** Reading and writing the config file. It may hold a token, so it is only ever mode 0600. */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseStoredConfig, type StoredConfig } from "./config-fns.js";
import { CliError, ExitCode } from "./exit-codes.js";

export const CONFIG_FILE_MODE = 0o600;
export const CONFIG_DIR_MODE = 0o700;

export interface LoadedConfig {
  config: StoredConfig;
  /** True when group or others may read or write the file. */
  tooOpen: boolean;
}

/** The stored config, or null when the file does not exist. */
export async function readConfigFile(path: string): Promise<LoadedConfig | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new CliError(`cannot read the config file ${path}: ${(err as Error).message}`, {
      exitCode: ExitCode.usage,
      code: "config_unreadable",
      cause: err,
    });
  }
  const mode = (await stat(path)).mode;
  return { config: parseStoredConfig(text, path), tooOpen: (mode & 0o077) !== 0 };
}

/**
 * Writes the config atomically: a new file created with mode 0600 (whatever the umask) in the
 * same directory, then renamed over the old one. Missing directories are created with 0700.
 */
export async function writeConfigFile(path: string, config: StoredConfig): Promise<void> {
  const dir = dirname(path);
  try {
    await mkdir(dir, { recursive: true, mode: CONFIG_DIR_MODE });
    const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
    const handle = await open(tmp, "wx", CONFIG_FILE_MODE);
    try {
      await handle.chmod(CONFIG_FILE_MODE);
      await handle.writeFile(`${JSON.stringify(config, null, 2)}\n`, "utf8");
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await handle.close();
    await rename(tmp, path);
    await chmod(path, CONFIG_FILE_MODE);
  } catch (err) {
    throw new CliError(`cannot write the config file ${path}: ${(err as Error).message}`, {
      exitCode: ExitCode.error,
      code: "config_unwritable",
      cause: err,
    });
  }
}
