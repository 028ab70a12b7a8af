import { execFile } from "node:child_process";
import { mkdtemp, open, rm, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Mounting a tmpfs needs root (CI and this machine run the fault suite as root). */
export const canMountTmpfs = (): boolean => process.getuid?.() === 0 && process.platform === "linux";

export interface SmallDisk {
  /** The mount point. */
  dir: string;
  /** Bytes still free. */
  free(): Promise<number>;
  /**
   * Take the free space with a filler file (what another process filling the disk looks like),
   * all of it or all but `leaveBytes` (so a write gets part of the way before it fails).
   */
  fill(leaveBytes?: number): Promise<void>;
  /** Delete the filler: the space comes back. */
  unfill(): Promise<void>;
  /** Remount at another size, keeping the files (an operator growing the volume). */
  resize(bytes: number): Promise<void>;
  /** Unmount and remove the mount point (safe to call twice, and after a failure). */
  remove(): Promise<void>;
}

/** A small disk of the test's own: a tmpfs of `bytes` mounted on a fresh temp directory. */
export async function mountSmallDisk(bytes: number): Promise<SmallDisk> {
  const dir = await mkdtemp(join(tmpdir(), "nexus-small-disk-"));
  await run("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0755`, "tmpfs", dir]);
  const filler = join(dir, ".filler");
  let mounted = true;
  return {
    dir,
    async free() {
      const s = await statfs(dir);
      return s.bavail * s.bsize;
    },
    async fill(leaveBytes = 0) {
      const handle = await open(filler, "a");
      if (leaveBytes > 0) {
        const s = await statfs(dir);
        const take = Math.max(0, s.bavail * s.bsize - leaveBytes);
        try {
          await handle.write(Buffer.alloc(take, 0x5a));
        } finally {
          await handle.close();
        }
        return;
      }
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      try {
        for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
          // Fill with big writes, then smaller ones until not even one byte fits.
          for (;;) {
            const ok = await handle.write(chunk, 0, size).then(
              () => true,
              (err: NodeJS.ErrnoException) => {
                if (err.code === "ENOSPC") return false;
                throw err;
              },
            );
            if (!ok) break;
          }
        }
      } finally {
        await handle.close().catch(() => undefined);
      }
    },
    async unfill() {
      await rm(filler, { force: true });
    },
    async resize(size) {
      await run("mount", ["-o", `remount,size=${size}`, dir]);
    },
    async remove() {
      if (mounted) {
        mounted = false;
        await run("umount", ["-l", dir]).catch(() => undefined);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
