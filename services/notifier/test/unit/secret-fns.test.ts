import { newSealingKey, openSealed, parseSealingKeys, sealedKeyId, sealValue } from "@nexus/kit";
import { describe, expect, it } from "vitest";
import type { Receiver, RoutingConfig } from "../../src/routing/routing-types.js";
import {
  openReceiverSecrets,
  ReceiverSecretError,
  scrubSecrets,
  sealConfigSecrets,
  sealedLookingInput,
  secretAad,
} from "../../src/routing/secret-fns.js";

const k1 = newSealingKey("k1");
const keys = parseSealingKeys(k1).keys!;
const hook: Receiver = {
  name: "hook",
  type: "webhook",
  sendResolved: true,
  url: "https://ci.example.com/nexus?token=t0k3n",
  signingSecret: "whsec_1",
  headers: {},
};
const config = (receivers: Receiver[]): RoutingConfig => ({ route: {}, receivers, inhibitRules: [] });

describe("receiver secrets at rest", () => {
  it("seals every secret field, bound to the receiver, and opens them for sending", () => {
    const sealed = sealConfigSecrets(config([hook]), keys).receivers[0] as typeof hook;
    expect(sealed.url).toMatch(/^nxs1:k1:/);
    expect(sealed.signingSecret).toMatch(/^nxs1:k1:/);
    expect(sealed.headers).toEqual({});
    expect(openReceiverSecrets(sealed, keys)).toEqual(hook);
  });

  it("reads rows written before sealing (plaintext) as they are, and seals them at the next save", () => {
    expect(openReceiverSecrets(hook, keys)).toEqual(hook);
    const resaved = sealConfigSecrets(config([hook]), keys).receivers[0] as typeof hook;
    expect(openSealed(keys, resaved.url, secretAad(hook, "url"))).toBe(hook.url);
  });

  it("moves values sealed with a previous key to the active key on save, and keeps current ones", () => {
    const old = sealConfigSecrets(config([hook]), keys).receivers[0] as typeof hook;
    const rotated = parseSealingKeys(newSealingKey("k2"), k1).keys!;
    const again = sealConfigSecrets(config([old]), rotated).receivers[0] as typeof hook;
    expect(sealedKeyId(again.url)).toBe("k2");
    expect(openReceiverSecrets(again, rotated)).toEqual(hook);
    const kept = sealConfigSecrets(config([again]), rotated).receivers[0] as typeof hook;
    expect(kept.url).toBe(again.url);
  });

  it("does not open a value copied to another receiver or field", () => {
    const other = { ...hook, name: "other", url: sealValue(keys, hook.url, secretAad(hook, "url")) };
    expect(() => openReceiverSecrets(other, keys)).toThrow(ReceiverSecretError);
    expect(() => openReceiverSecrets(other, keys)).toThrow("cannot decrypt url of receiver other");
  });

  it("refuses input shaped like a sealed value, and cuts secrets out of text", () => {
    expect(sealedLookingInput(config([{ ...hook, signingSecret: "nxs1:k1:AAAA" }]))).toBe(
      "receivers.0.signingSecret",
    );
    expect(sealedLookingInput(config([hook]))).toBeNull();
    expect(scrubSecrets(`POST ${hook.url} failed; key whsec_1`, hook)).toBe(
      "POST <redacted> failed; key <redacted>",
    );
  });
});
