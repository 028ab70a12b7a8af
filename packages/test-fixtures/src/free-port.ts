import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * A free TCP port on 127.0.0.1 BELOW the kernel's ephemeral range. Port 0 hands out an ephemeral
 * port, which the kernel may give next to any outgoing connection (a Postgres pool's, a fetch's)
 * while a killed service is down: its restart on the same port then fails with EADDRINUSE (seen
 * in CI: the registry of the write-history kill test). Ports below the range are never handed out
 * that way, so a service restarted where its clients point finds its port free.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const from = 10_000;
  const span = Math.max(1, low - from);
  for (let tries = 0; tries < 50; tries++) {
    const port = from + Math.floor(Math.random() * span);
    if (await canListen(port)) return port;
  }
  return listenOnce(0);
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high && low > 10_001) return [low, high];
  } catch {
    // not Linux: the IANA dynamic range
  }
  return [49_152, 65_535];
}

const canListen = (port: number) =>
  listenOnce(port).then(
    () => true,
    () => false,
  );

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
