/**
 * The CLI's one read of the process environment. Its variables are user settings (NEXUS_URL,
 * NEXUS_TOKEN, NEXUS_CONFIG, NO_COLOR, XDG_CONFIG_HOME, VISUAL/EDITOR) resolved by
 * `config-fns.ts` against flags and the config file; everything else receives this snapshot.
 */
export function readEnvironment(): Readonly<NodeJS.ProcessEnv> {
  return Object.freeze({ ...process.env });
}

/**
 * Where relative paths (`-f base.yaml`) are meant from. `pnpm nexus` (the root package script)
 * runs in the repository root; pnpm says where it was invoked in INIT_CWD. Only for that script:
 * another script that `cd`s somewhere and runs nexus means its own directory.
 */
export function invocationDir(env: Readonly<NodeJS.ProcessEnv>): string {
  return env.npm_lifecycle_event === "nexus" && env.INIT_CWD ? env.INIT_CWD : process.cwd();
}
