import { GIT_RESYNC_COMMAND, GitResyncCommand, GitResyncReply } from "@nexus/contracts";
import { BadRequestError, type Bus, type Stoppable, ValidationError } from "@nexus/kit";
import type { GitImportService } from "./git-import-service.js";
import { branchesOf } from "./git-source-fns.js";
import type { GitSourceService } from "./git-source-service.js";
import type { GitSource } from "./git-source-types.js";

/** Import every layout file at the heads of the source's branches (or one branch) now. */
export async function resyncSource(
  imports: Pick<GitImportService, "run">,
  source: GitSource,
  branch?: string,
) {
  const results = [];
  for (const b of branch ? [branch] : branchesOf(source))
    results.push({
      branch: b,
      ...(await imports.run({ source, branch: b, what: b, changedFiles: null, trigger: "resync" })),
    });
  return results;
}

/** `nexus.git.cmd.resync.<source>`: the resync of POST /v1/git-sources/{name}/resync, over NATS. */
export function serveGitResync(deps: {
  bus: Pick<Bus, "serveCommand">;
  sources: Pick<GitSourceService, "find">;
  imports: Pick<GitImportService, "run">;
}): Stoppable {
  return deps.bus.serveCommand({
    subject: `${GIT_RESYNC_COMMAND}.*`,
    request: GitResyncCommand,
    reply: GitResyncReply,
    queue: "config-registry",
    handler: async (cmd, ctx) => {
      if (ctx.subject.split(".").at(-1) !== cmd.source)
        throw new BadRequestError("subject_mismatch", "the body's source must be the subject's", {
          field: "source",
        });
      const source = await deps.sources.find(cmd.source);
      if (cmd.branch && !branchesOf(source).includes(cmd.branch))
        throw new ValidationError(
          "branch_not_followed",
          `Git source ${cmd.source} does not follow ${cmd.branch}`,
          {
            field: "branch",
          },
        );
      return { ok: true as const, results: await resyncSource(deps.imports, source, cmd.branch) };
    },
  });
}
