/**
 * `nexus edit <ns> <layer>`: the layer as YAML in $VISUAL / $EDITOR, written back only if it
 * changed, and only if nobody else wrote the layer meanwhile (If-Match = the revision fetched).
 * Whatever goes wrong after the editor closes, the edited file is kept and its path printed.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import type { Layer } from "../api-types.js";
import { contextOf } from "../context.js";
import { CliError, ExitCode, withHint } from "../exit-codes.js";
import { jsonEqual, readYamlDocument, renderDocument } from "../output/format-fns.js";
import type { Io } from "../output/output.js";
import { writeResultLine } from "../output/views-fns.js";
import { layerArgument, nsArgument } from "./args.js";
import { reportWrite } from "./write-outcome.js";

interface EditOptions {
  message?: string;
}

export function registerEdit(program: Command, io: Io): void {
  program
    .command("edit")
    .description("edit a layer in $VISUAL / $EDITOR and write it back as a new revision")
    .addArgument(nsArgument())
    .addArgument(layerArgument())
    .option("-m, --message <text>", "why: recorded on the revision")
    .action(async (ns: string, layerName: string, options: EditOptions, command: Command) => {
      const ctx = contextOf(io, command);
      const client = await ctx.client();
      const layer = await client.getLayer(ns, layerName);

      const dir = await mkdtemp(join(tmpdir(), "nexus-edit-"));
      const file = join(dir, `${ns}.${layerName}.yaml`);
      const original = editableText(layer);
      await writeFile(file, original, { mode: 0o600 });
      const discard = () => rm(dir, { recursive: true, force: true });

      try {
        await runEditor(editorOf(io.env), file, io);
      } catch (err) {
        await discard();
        throw err;
      }
      const edited = await readFile(file, "utf8");
      const kept = `Your edit is kept in ${file}.`;

      let parsed: ReturnType<typeof readYamlDocument>;
      try {
        parsed = readYamlDocument(edited, "the edited file");
      } catch (err) {
        throw err instanceof CliError ? withHint(err, `Nothing was written. ${kept}`) : err;
      }
      if (edited === original || parsed.empty || jsonEqual(parsed.value, layer.content)) {
        await discard();
        const why = parsed.empty ? "the file is empty, so the edit was cancelled" : "no changes";
        if (ctx.out.json)
          ctx.out.data({ namespace: ns, layer: layerName, revision: layer.revision, changed: false });
        else ctx.out.text(`${ns}/${layerName}: ${why}; nothing written`);
        return;
      }

      let outcome: Awaited<ReturnType<typeof client.putLayer>>;
      try {
        // The YAML itself goes to the registry, which parses it by the same rules as any write.
        outcome = await client.putLayer(ns, layerName, edited, "application/yaml", {
          message: options.message,
          ifMatch: layer.revision,
        });
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        const again =
          err.exitCode === ExitCode.conflict
            ? `Someone wrote ${ns}/${layerName} since you opened it; run \`nexus edit\` again and reapply your change. `
            : "Nothing was written. ";
        throw withHint(err, `${again}${kept}`);
      }
      // A change request holds the edited content, so the file is not needed either way.
      await discard();
      reportWrite(ctx, client.baseUrl, outcome, (result) => writeResultLine(result, ctx.out.colors));
    });
}

function editableText(layer: Layer): string {
  const at = layer.revision === 0 ? "not written yet" : `revision ${layer.revision}`;
  return (
    `# ${layer.namespace}/${layer.layer} (${at}). Save and quit to write a new revision.\n` +
    "# Leave it unchanged, or empty the file, to write nothing.\n" +
    renderDocument(layer.content, "yaml")
  );
}

/** $VISUAL, then $EDITOR, then vi; may carry arguments (`code --wait`). */
export function editorOf(env: NodeJS.ProcessEnv): string {
  return env.VISUAL?.trim() || env.EDITOR?.trim() || "vi";
}

/** Runs the editor through the shell on the terminal; Ctrl-C belongs to the editor meanwhile. */
function runEditor(editor: string, file: string, io: Io): Promise<void> {
  return new Promise((resolve, reject) => {
    const ignore = () => {};
    process.on("SIGINT", ignore);
    const child = spawn("/bin/sh", ["-c", `${editor} "$1"`, "nexus-edit", file], {
      stdio: "inherit",
      cwd: io.cwd,
      env: io.env,
    });
    const done = (err?: CliError) => {
      process.off("SIGINT", ignore);
      if (err) reject(err);
      else resolve();
    };
    child.on("error", (err) =>
      done(editorFailed(`cannot start the editor ${JSON.stringify(editor)}: ${err.message}`)),
    );
    child.on("exit", (code, signal) => {
      if (code === 0) return done();
      if (code === 127) {
        return done(
          editorFailed(`cannot find the editor ${JSON.stringify(editor)}; nothing was written`, SET_EDITOR),
        );
      }
      const how = signal ? `was stopped by ${signal}` : `exited with status ${code}`;
      done(editorFailed(`the editor (${editor}) ${how}; nothing was written`));
    });
  });
}

const SET_EDITOR =
  "Set VISUAL or EDITOR to an editor that waits until you close the file (e.g. `code --wait`).";

const editorFailed = (message: string, hint?: string) =>
  new CliError(message, { exitCode: ExitCode.error, code: "editor_failed", hint });
