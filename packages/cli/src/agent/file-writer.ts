/**
 * Putting rendered files in place without a reader ever seeing half of one: each is written to a
 * temporary file in the same directory (mode and owner set before it has content), fsynced,
 * optionally checked by a validate command, then renamed over the old one; the directory is
 * fsynced so the rename survives a crash. The previous content is kept in memory so a failed
 * reload can put it back.
 */
import { randomBytes } from "node:crypto";
import { chown, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { execa, parseCommandString } from "execa";
import type { RenderedFile } from "./agent-config.js";

export interface StagedFile {
  path: string;
  tempPath: string;
  /** What the path held before, to put back if the reload fails (undefined: there was no file). */
  previous: Buffer | undefined;
}

export class StepFailure extends Error {
  constructor(
    readonly step: "render" | "validate" | "reload",
    message: string,
  ) {
    super(`${step}: ${message}`);
    this.name = "StepFailure";
  }
}

export async function stageFile(file: RenderedFile, text: string): Promise<StagedFile> {
  const tempPath = tempPathFor(file.path);
  const previous = await readFile(file.path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  await writeDurably(tempPath, text, file);
  return { path: file.path, tempPath, previous };
}

/** Run the file's validate command on the staged copy; throws StepFailure("validate") with its output. */
export async function validateStaged(
  file: RenderedFile,
  staged: StagedFile,
  timeoutMs: number,
): Promise<void> {
  if (!file.validate) return;
  const [program, ...args] = parseCommandString(file.validate).map((part) =>
    part.replaceAll("{file}", staged.tempPath),
  );
  const result = await execa(program!, args, {
    reject: false,
    timeout: timeoutMs,
    all: true,
    stdin: "ignore",
  });
  if (result.failed) {
    const output = (result.all ?? "").toString().trim().split("\n").slice(-3).join(" | ");
    const why = result.timedOut
      ? `timed out after ${timeoutMs} ms`
      : `exit code ${result.exitCode ?? "none"}`;
    throw new StepFailure(
      "validate",
      `${file.validate} failed on ${file.path} (${why})${output ? `: ${output}` : ""}`,
    );
  }
}

export async function commitStaged(staged: StagedFile): Promise<void> {
  await rename(staged.tempPath, staged.path);
  await syncDirectory(dirname(staged.path));
}

export async function discardStaged(staged: StagedFile): Promise<void> {
  await rm(staged.tempPath, { force: true });
}

/** Put back what a committed file replaced (or remove a file that did not exist before). */
export async function restorePrevious(file: RenderedFile, staged: StagedFile): Promise<void> {
  if (staged.previous === undefined) {
    await rm(staged.path, { force: true });
    return;
  }
  const tempPath = tempPathFor(file.path);
  await writeDurably(tempPath, staged.previous, file);
  await commitStaged({ path: file.path, tempPath, previous: undefined });
}

/** In the same directory, so the rename is atomic; hidden, so globbing readers skip it. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.nexus-${randomBytes(4).toString("hex")}`);
}

async function writeDurably(path: string, content: string | Buffer, file: RenderedFile): Promise<void> {
  const handle = await open(path, "w", file.mode);
  try {
    await handle.chmod(file.mode);
    if (process.getuid?.() === 0 && (file.uid !== undefined || file.gid !== undefined)) {
      await chown(path, file.uid ?? -1, file.gid ?? -1);
    }
    await handle.writeFile(content);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(path, { force: true });
    throw err;
  }
  await handle.close();
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
