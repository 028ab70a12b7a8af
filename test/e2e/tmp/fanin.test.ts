import { it } from "vitest";
import { call, startRegistry } from "../../../services/config-registry/test/integration/harness.js";

it("fan-in cost", async () => {
  const h = await startRegistry();
  await call(h, "POST", "/v1/namespaces", { name: "up" });
  await call(h, "PUT", "/v1/namespaces/up/layers/base", { v: 0, host: "x" });
  const N = Number(process.env.N ?? 200);
  for (let i = 0; i < N; i++) {
    await call(h, "POST", "/v1/namespaces", { name: `r${i}` });
    await call(h, "PUT", `/v1/namespaces/r${i}/layers/base`, {
      a: "${ref:up:v}",
      b: { c: i, d: "${ref:up:host}" },
    });
  }
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    const res = await call(h, "PUT", "/v1/namespaces/up/layers/base", { v: round + 1, host: "x" });
    const t1 = performance.now();
    console.log(
      `N=${N} write ${res.status} ${(t1 - t0).toFixed(1)} ms = ${((t1 - t0) / N).toFixed(2)} ms/reader`,
    );
  }
  await h.close();
}, 300_000);
