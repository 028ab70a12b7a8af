import { describe, expect, it } from "vitest";
import { allowAddressList, baseEnvSchema, parseEnv } from "../../src/env.js";

describe("TRUST_PROXY", () => {
  const parse = (value?: string) => parseEnv(baseEnvSchema, { PORT: "1", TRUST_PROXY: value }).TRUST_PROXY;

  it("is a list of addresses, CIDR ranges and proxy-addr's range names; empty trusts no proxy", () => {
    expect(parse()).toEqual([]);
    expect(parse(" 10.0.0.0/8, 192.168.1.5 ,::1, fd00::/8,loopback")).toEqual([
      "10.0.0.0/8",
      "192.168.1.5",
      "::1",
      "fd00::/8",
      "loopback",
    ]);
  });

  it("refuses what fastify could not use, naming the variable", () => {
    for (const bad of ["true", "10.0.0.0/33", "proxy.internal", "10.0.0.1/8/2", "::1/129"]) {
      expect(() => parse(bad), bad).toThrow(/TRUST_PROXY: must be comma-separated IP addresses/);
    }
  });
});

describe("an allow-list of outbound addresses (GIT_ALLOW_ADDRESSES, OUTBOUND_ALLOW_ADDRESSES)", () => {
  const schema = baseEnvSchema.extend({ ALLOW: allowAddressList() });
  const parse = (value?: string) => parseEnv(schema, { PORT: "1", ALLOW: value }).ALLOW;

  it("is a list of addresses and CIDR ranges; empty allows none", () => {
    expect(parse()).toEqual([]);
    expect(parse(" 127.0.0.1, 10.0.0.0/8 ,::1")).toEqual(["127.0.0.1", "10.0.0.0/8", "::1"]);
  });

  it("refuses what is not an address or range, naming the variable", () => {
    for (const bad of ["localhost", "10.0.0.0/33", "loopback"]) {
      expect(() => parse(bad), bad).toThrow(/ALLOW: must be comma-separated IP addresses or CIDR ranges/);
    }
  });
});
