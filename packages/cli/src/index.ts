export { ApiClient, type ApiClientOptions } from "./api-client.js";
export { CliError, ExitCode, exitCodeForStatus } from "./exit-codes.js";
export { buildProgram, processIo, run, VERSION } from "./main.js";
export type { Io } from "./output/output.js";
export type { ResolvedSnapshot, WatchSource, WatchTarget } from "./watch/watch-source.js";
