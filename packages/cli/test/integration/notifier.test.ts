/** `nexus notifier` in-process against the real notifier (Postgres, NATS) on a loopback port. */
import { mkdtemp, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startNotifier } from "../../../../services/notifier/test/integration/harness.js";
import {
  type ScriptedReceiver,
  startReceiver,
} from "../../../../services/notifier/test/integration/receivers.js";
import { runNexus } from "./in-process.js";

describe("nexus notifier", () => {
  let h: Harness;
  let hook: ScriptedReceiver;
  let url: string;

  const nexus = (...args: string[]) => runNexus({ NEXUS_NOTIFIER_URL: url, NEXUS_TOKEN: h.adminToken }, args);

  beforeAll(async () => {
    [h, hook] = await Promise.all([startNotifier({ consumeEvents: false }), startReceiver()]);
    await h.app.app.listen({ port: 0, host: "127.0.0.1" });
    url = `http://127.0.0.1:${(h.app.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await h.close();
    await hook.close();
  });

  it("adds receivers and routes as versions, and refuses a route to a missing receiver with exit 4", async () => {
    const dir = await mkdtemp("/tmp/nexus-notifier-cli-");
    await writeFile(`${dir}/hook.yaml`, `type: webhook\nurl: ${hook.url}/x\nsigningSecret: abcdefgh\n`);
    const set = await nexus("notifier", "receivers", "set", "team", "-f", `${dir}/hook.yaml`);
    expect(set).toMatchObject({ code: 0, out: "Saved receiver team (routing version 1).\n" });
    await writeFile(`${dir}/routing.yaml`, "route:\n  receiver: ghost\nreceivers: []\n");
    const bad = await nexus("notifier", "routing", "apply", "-f", `${dir}/routing.yaml`);
    expect(bad.code).toBe(4);
    expect(bad.err).toContain("no receiver named ghost");
    const listed = await nexus("--json", "notifier", "receivers", "list");
    expect(JSON.parse(listed.out).items[0]).toMatchObject({
      name: "team",
      type: "webhook",
      url: "<redacted>",
      signingSecret: "<redacted>",
    });
  });

  it("adds, lists and expires silences", async () => {
    const added = await nexus(
      "--json",
      "notifier",
      "silences",
      "add",
      "--matcher",
      "namespace=payments",
      "--duration",
      "2h",
      "-c",
      "deploy",
    );
    expect(added.code).toBe(0);
    const silence = JSON.parse(added.out);
    expect(silence).toMatchObject({
      state: "active",
      createdBy: "tester",
      matchers: [{ label: "namespace", op: "=", value: "payments" }],
    });
    expect((await nexus("notifier", "silences", "list")).out).toContain(silence.id);
    const edited = await nexus(
      "notifier",
      "silences",
      "edit",
      silence.id,
      "--duration",
      "3h",
      "-m",
      "runs long",
    );
    expect(edited.code).toBe(0);
    expect(edited.out).toMatch(new RegExp(`^Silence ${silence.id} active until `));
    expect((await nexus("notifier", "silences", "expire", silence.id, "-m", "done")).out).toBe(
      `Silence ${silence.id} ended.\n`,
    );
    const history = (await nexus("notifier", "silences", "history", silence.id)).out.trim().split("\n");
    expect(history).toHaveLength(3);
    expect(history[0]).toMatch(/ expired .* by tester: done .*expiredBy none → tester/);
    expect(history[1]).toMatch(/ edited .* by tester: runs long .*\(endsAt \S+ → \S+\)/);
    expect(history[2]).toMatch(/ created .* by tester: deploy .*matchers none → namespace=payments/);
    const json = JSON.parse((await nexus("--json", "notifier", "silences", "history")).out);
    expect(json.items[0]).toMatchObject({ silenceId: silence.id, action: "expired", comment: "done" });
  });

  it("says when no notifier is configured (exit 2)", async () => {
    const saved = url;
    url = "";
    try {
      const res = await nexus("notifier", "alerts", "list");
      expect(res.code).toBe(2);
      expect(res.err).toContain("no notifier configured");
    } finally {
      url = saved;
    }
  });
});
