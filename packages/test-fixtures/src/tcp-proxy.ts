import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "./free-port.js";

/**
 * A TCP pass-through in front of a server (the registry, Postgres, NATS), so a test can make it
 * unreachable for one client (connection refused, like a crashed or partitioned server) while the
 * server itself keeps going for everyone else, and bring it back on the same address.
 */
export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1") {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  // Below the ephemeral range (see freePort): while the proxy is down, no other test's listener
  // or outgoing connection can take its port, so `up` finds it free (CI once failed on exactly that).
  let port = await freePort();
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on("close", () => sockets.delete(sock));
          sock.on("error", () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  await listen();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    /** Refuse new connections and cut the open ones. */
    async down() {
      const s = server;
      server = undefined;
      for (const sock of sockets) sock.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    /** Listen again on the same port. */
    up: listen,
    close() {
      return this.down();
    },
  };
}
