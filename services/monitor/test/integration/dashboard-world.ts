import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import {
  combineAuthenticators,
  createRemoteTokenAuthenticator,
  type RemoteTokenAuthenticator,
} from "@nexus/kit";
import {
  createTestDatabase,
  startTestIssuer,
  type TestDatabase,
  type TestIssuer,
} from "@nexus/test-fixtures";
import { type Browser, chromium } from "playwright-core";
import {
  type Harness as Registry,
  type HarnessOptions as RegistryOptions,
  startRegistry,
} from "../../../config-registry/test/integration/harness.js";
import {
  DETECTOR_MIGRATIONS,
  DETECTOR_SCHEMA,
  type Detector,
  startDetector,
} from "../../../drift-detector/test/integration/harness.js";
import type { MonitorConfig } from "../../src/app.js";
import { type Harness, startMonitor } from "./harness.js";

/** Screenshots are kept as test artifacts (test-results/ is git-ignored). */
export const SHOTS = fileURLToPath(new URL("../../../../test-results/screenshots/", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Debian's Chromium, headless, with the screenshot folder made. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** `http://127.0.0.1:<port>` of a fastify app listening on a free port. */
export async function listenLocally(app: {
  listen(o: { host: string; port: number }): Promise<unknown>;
  server: { address(): unknown };
}): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

export interface DashboardWorld {
  registry: Registry;
  detector: Detector;
  monitor: Harness;
  /** The monitor's URL (the dashboard is under /dashboard). */
  base: string;
  close(): Promise<void>;
}

/**
 * What the dashboard's browser tests stand on: the real registry, a drift-detector and the monitor,
 * each listening on its own port, the monitor and the detector accepting the registry's API tokens.
 */
export async function startDashboardWorld(
  options: { registry?: RegistryOptions; monitor?: Partial<MonitorConfig> } = {},
): Promise<DashboardWorld> {
  const registry = await startRegistry(options.registry);
  let detectorDb: TestDatabase | undefined;
  let detectorIssuer: TestIssuer | undefined;
  let detector: Detector | undefined;
  let tokens: RemoteTokenAuthenticator | undefined;
  let monitor: Harness | undefined;
  const close = async () => {
    await tokens?.stop();
    await monitor?.close();
    await detector?.stop();
    await detectorIssuer?.close();
    await detectorDb?.drop();
    await registry.close();
  };
  try {
    const registryUrl = await listenLocally(registry.registry.app);
    [detectorDb, detectorIssuer] = await Promise.all([
      createTestDatabase({ schema: DETECTOR_SCHEMA, migrationsDir: DETECTOR_MIGRATIONS }),
      startTestIssuer(),
    ]);
    detector = await startDetector(
      detectorDb,
      registry.nats.prefix,
      detectorIssuer,
      {},
      { bus: registry.nats.bus, key: registry.tokenKey },
    );
    const detectorUrl = await listenLocally(detector.app.app);
    monitor = await startMonitor(
      { expectedServices: [], driftDetectorUrl: detectorUrl, registryUrl, ...options.monitor },
      {
        nats: registry.nats,
        authenticator: () => {
          tokens = createRemoteTokenAuthenticator({ bus: registry.nats.bus, key: registry.tokenKey });
          return combineAuthenticators({ apiTokens: tokens });
        },
      },
    );
    const base = await listenLocally(monitor.app.app);
    return { registry, detector, monitor, base, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
