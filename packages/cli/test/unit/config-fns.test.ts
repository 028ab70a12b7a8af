import { describe, expect, it } from "vitest";
import {
  configPath,
  normalizeRegistryUrl,
  parseStoredConfig,
  redactUrl,
  resolveSettings,
} from "../../src/config-fns.js";
import { CliError } from "../../src/exit-codes.js";

function usageFailure(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    return err as CliError;
  }
  throw new Error("expected a usage error");
}

describe("configPath", () => {
  const home = "/home/ann";
  it("prefers --config, then NEXUS_CONFIG, then XDG_CONFIG_HOME, then ~/.config", () => {
    const env = { NEXUS_CONFIG: "/env/c.json", XDG_CONFIG_HOME: "/xdg" };
    expect(configPath("/flag/c.json", env, home)).toBe("/flag/c.json");
    expect(configPath(undefined, env, home)).toBe("/env/c.json");
    expect(configPath(undefined, { XDG_CONFIG_HOME: "/xdg" }, home)).toBe("/xdg/nexus/config.json");
    expect(configPath(undefined, {}, home)).toBe("/home/ann/.config/nexus/config.json");
  });

  it("ignores a relative XDG_CONFIG_HOME, as the XDG spec asks", () => {
    expect(configPath(undefined, { XDG_CONFIG_HOME: "rel/dir" }, home)).toBe(
      "/home/ann/.config/nexus/config.json",
    );
  });
});

describe("normalizeRegistryUrl", () => {
  it.each([
    ["http://127.0.0.1:4100", "http://127.0.0.1:4100"],
    ["http://127.0.0.1:4100/", "http://127.0.0.1:4100"],
    ["  https://nexus.example.com//  ", "https://nexus.example.com"],
    ["https://example.com/nexus/", "https://example.com/nexus"],
    ["HTTP://EXAMPLE.com:80/", "http://example.com"],
  ])("%s → %s", (raw, expected) => {
    expect(normalizeRegistryUrl(raw)).toBe(expected);
  });

  it.each([
    ["not a url", /not a URL/],
    ["ftp://example.com", /http:\/\/ or https:\/\//],
    ["http://user:pw@example.com", /credentials/],
    ["http://example.com/?a=1", /query or fragment/],
    ["http://example.com/#x", /query or fragment/],
  ])("refuses %s", (raw, message) => {
    const err = usageFailure(() => normalizeRegistryUrl(raw));
    expect(err.message).toMatch(message);
    expect(err.field).toBe("url");
  });

  it("never echoes a password found in a bad URL", () => {
    const err = usageFailure(() => normalizeRegistryUrl("htp//user:hunter2@x y", "env"));
    expect(err.message).not.toContain("hunter2");
    expect(err.message).toContain("NEXUS_URL");
  });

  it("redacts credentials", () => {
    expect(redactUrl("https://u:p@host/x")).toBe("https://***@host/x");
    expect(redactUrl("https://host/x")).toBe("https://host/x");
  });
});

describe("resolveSettings", () => {
  const file = { url: "http://file:1", token: "file-token" };
  const env = { NEXUS_URL: "http://env:2", NEXUS_TOKEN: "env-token" };

  it("takes flags over environment over the config file, and says where the token came from", () => {
    const flags = { url: "http://flag:3", token: "flag-token" };
    expect(resolveSettings({ flags, env, file })).toEqual({
      url: "http://flag:3",
      urlSource: "flag",
      token: "flag-token",
      tokenSource: "flag",
    });
    expect(resolveSettings({ flags: {}, env, file })).toEqual({
      url: "http://env:2",
      urlSource: "env",
      token: "env-token",
      tokenSource: "env",
    });
    expect(resolveSettings({ flags: {}, env: {}, file })).toEqual({
      url: "http://file:1",
      urlSource: "config",
      token: "file-token",
      tokenSource: "config",
    });
  });

  it("has no URL and no token when nothing is configured", () => {
    expect(resolveSettings({ flags: {}, env: {}, file: null })).toEqual({
      url: undefined,
      urlSource: undefined,
      token: undefined,
      tokenSource: undefined,
    });
  });

  it("has no author any more: NEXUS_AUTHOR is ignored (the token's owner is the author)", () => {
    const settings = resolveSettings({ flags: {}, env: { NEXUS_AUTHOR: "ann" }, file: null });
    expect(settings).not.toHaveProperty("author");
  });

  it("validates the URL wherever it came from", () => {
    const err = usageFailure(() => resolveSettings({ flags: {}, env: {}, file: { url: "ftp://x" } }));
    expect(err.message).toContain("config file");
  });
});

describe("parseStoredConfig", () => {
  it("reads url and token", () => {
    expect(parseStoredConfig('{"url":"http://x","token":"t","other":1}', "/c")).toEqual({
      url: "http://x",
      token: "t",
    });
  });

  it("still loads a file written by an older CLI with an author, and drops the author", () => {
    const stored = parseStoredConfig('{"url":"http://x","token":"t","author":"ann lee"}', "/c");
    expect(stored).toEqual({ url: "http://x", token: "t" });
    expect(stored).not.toHaveProperty("author");
    // Whatever its type: the key is not read at all.
    expect(parseStoredConfig('{"url":"http://x","author":{"name":1}}', "/c")).toEqual({ url: "http://x" });
  });

  it.each([
    ["{", /not valid JSON/],
    ["[]", /JSON object/],
    ['{"url": 3}', /"url" must be a string/],
  ])("refuses %s", (text, message) => {
    expect(usageFailure(() => parseStoredConfig(text, "/c")).message).toMatch(message);
  });
});
