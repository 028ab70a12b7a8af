import { execFile, execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A network namespace needs root, iproute2 and (for the cut) iptables: CI runs the fault suite as root. */
export function canMakeNetns(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
    execFileSync("iptables", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const PREFIX = "nxfault";

export interface Netns {
  name: string;
  /** The host's end of the veth: what processes in the namespace dial. */
  hostIp: string;
  /** The namespace's end: where a process in it listens for the test. */
  nsIp: string;
  /** Prefix a command with this to run it inside the namespace (`ip netns exec <name>`). */
  wrap: string[];
  /** `host:port` on the host's veth address relaying to a server on the host's loopback (Postgres, Redis). */
  relay(port: number): Promise<string>;
  /** Drop every packet to and from the host's `port` inside the namespace: a partition, not a refusal. */
  cut(port: number): Promise<void>;
  /** Remove the cut. */
  heal(): Promise<void>;
  /** Delete the namespace (its veth goes with it) and the relays; safe twice and after a failure. */
  remove(): Promise<void>;
}

/** Namespaces an earlier run left behind (a killed test process): their creator's pid is gone. */
async function removeLeftovers(): Promise<void> {
  const { stdout } = await run("ip", ["netns", "list"]);
  for (const line of stdout.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const pid = Number(name.split("-")[1]);
    if (!name.startsWith(`${PREFIX}-`) || !pid) continue;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) await run("ip", ["netns", "del", name]).catch(() => undefined);
  }
}

/**
 * A network namespace of the test's own, joined to the host by a veth pair on a /30 of
 * 10.213.0.0/16: a process started with `wrap` reaches the host only over it, so iptables rules
 * inside the namespace cut that one process off while everything else keeps its network.
 */
export async function createNetns(): Promise<Netns> {
  await removeLeftovers();
  const tag = randomInt(0, 16_384);
  const name = `${PREFIX}-${process.pid}-${tag}`;
  // Interface names are at most 15 characters.
  const hostIf = `nxh${tag}`;
  const nsIf = `nxn${tag}`;
  const base = tag * 4;
  const subnet = `10.213.${Math.floor(base / 256)}`;
  const hostIp = `${subnet}.${(base % 256) + 1}`;
  const nsIp = `${subnet}.${(base % 256) + 2}`;
  const relays: Server[] = [];
  const sockets = new Set<Socket>();
  let removed = false;
  const removeNow = () => {
    if (removed) return;
    removed = true;
    try {
      execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
    } catch {}
    try {
      execFileSync("ip", ["link", "del", hostIf], { stdio: "ignore" });
    } catch {}
  };
  // Even when the test process ends without its afterAll (a crash, a timeout's exit).
  process.once("exit", removeNow);
  const ip = (...args: string[]) => run("ip", args);
  const inNs = (...args: string[]) => run("ip", ["netns", "exec", name, ...args]);
  try {
    await ip("netns", "add", name);
    await ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
    await ip("link", "set", nsIf, "netns", name);
    await ip("addr", "add", `${hostIp}/30`, "dev", hostIf);
    await ip("link", "set", hostIf, "up");
    await inNs("ip", "addr", "add", `${nsIp}/30`, "dev", nsIf);
    await inNs("ip", "link", "set", nsIf, "up");
    await inNs("ip", "link", "set", "lo", "up");
  } catch (err) {
    removeNow();
    throw err;
  }
  let cutRules: string[][] = [];
  return {
    name,
    hostIp,
    nsIp,
    wrap: ["ip", "netns", "exec", name],
    async relay(port) {
      const server = createServer((client) => {
        const upstream = connect(port, "127.0.0.1");
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => s.destroy());
        }
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, hostIp, () => resolve());
      });
      relays.push(server);
      return `${hostIp}:${(server.address() as AddressInfo).port}`;
    },
    async cut(port) {
      const rules = [
        ["OUTPUT", "-p", "tcp", "-d", hostIp, "--dport", String(port), "-j", "DROP"],
        ["INPUT", "-p", "tcp", "-s", hostIp, "--sport", String(port), "-j", "DROP"],
      ];
      for (const r of rules) await inNs("iptables", "-w", "-A", ...r);
      cutRules.push(...rules);
    },
    async heal() {
      for (const r of cutRules) await inNs("iptables", "-w", "-D", ...r);
      cutRules = [];
    },
    async remove() {
      for (const s of sockets) s.destroy();
      await Promise.all(relays.map((r) => new Promise((resolve) => r.close(resolve))));
      removeNow();
      process.removeListener("exit", removeNow);
    },
  };
}
