/**
 * `nexus instances <ns> <env>`: who runs which revision. The inventory belongs to the
 * drift-detector, which this deployment does not run yet, so the command says so and exits 1
 * rather than show anything it cannot know.
 */
import type { Command } from "commander";
import { CliError, ExitCode } from "../exit-codes.js";
import type { Io } from "../output/output.js";
import { envArgument, nsArgument } from "./args.js";

export function registerInstances(program: Command, _io: Io): void {
  program
    .command("instances")
    .description("which instances run which revision (needs the drift-detector; not available yet)")
    .addArgument(nsArgument())
    .addArgument(envArgument())
    .action(async (ns: string, env: string) => {
      throw new CliError(
        `the instance inventory for ${ns}/${env} is not available from this deployment: it is kept by the drift-detector service, which is not running here`,
        {
          exitCode: ExitCode.error,
          code: "not_available",
          hint: "Instances report what they applied as config.applied events on NATS; the drift-detector will serve them.",
        },
      );
    });
}
