#!/usr/bin/env node
// The `nexus` command. The CLI is TypeScript run through tsx (as everything in this repository),
// registered in-process so there is no second process between the shell and the CLI. The
// tsconfig of the current directory is ignored: the CLI must behave the same from any cwd.
import { register } from "tsx/esm/api";

register({ tsconfig: false });
const { run, processIo } = await import("../src/main.ts");
process.exitCode = await run(process.argv, processIo());
