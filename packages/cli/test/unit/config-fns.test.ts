import { describe, expect, it } from "vitest";
import {
  configPath,
  normalizeRegistryUrl,
  parseStoredConfig,
  redactUrl,
  resolveSettings,
  sanitizeAuthor,
  validateAuthor,
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
  const file = { url: "http://file:1", token: "file-token", author: "file-author" };
  const env = { NEXUS_URL: "http://env:2", NEXUS_TOKEN: "env-token", NEXUS_AUTHOR: "env-author" };

  it("takes flags over environment over the config file", () => {
    const flags = { url: "http://flag:3", token: "flag-token", author: "flag-author" };
    expect(resolveSettings({ flags, env, file, fallbackAuthor: "me" })).toEqual({
      url: "http://flag:3",
      urlSource: "flag",
      token: "flag-token",
      author: "flag-author",
    });
    expect(resolveSettings({ flags: {}, env, file, fallbackAuthor: "me" })).toEqual({
      url: "http://env:2",
      urlSource: "env",
      token: "env-token",
      author: "env-author",
    });
    expect(resolveSettings({ flags: {}, env: {}, file, fallbackAuthor: "me" })).toEqual({
      url: "http://file:1",
      urlSource: "config",
      token: "file-token",
      author: "file-author",
    });
  });

  it("has no URL and no token when nothing is configured, and the login name as author", () => {
    expect(resolveSettings({ flags: {}, env: {}, file: null, fallbackAuthor: "ann" })).toEqual({
      url: undefined,
      urlSource: undefined,
      token: undefined,
      author: "ann",
    });
  });

  it("validates the URL wherever it came from", () => {
    const err = usageFailure(() =>
      resolveSettings({ flags: {}, env: {}, file: { url: "ftp://x" }, fallbackAuthor: "ann" }),
    );
    expect(err.message).toContain("config file");
  });
});

describe("authors", () => {
  it("accepts what the registry accepts and refuses the rest", () => {
    expect(validateAuthor("ann.lee@example.com")).toBe("ann.lee@example.com");
    expect(usageFailure(() => validateAuthor("ann\nlee")).field).toBe("author");
    expect(usageFailure(() => validateAuthor("")).field).toBe("author");
  });

  it("cleans a login name into an author", () => {
    expect(sanitizeAuthor("ann")).toBe("ann");
    expect(sanitizeAuthor("ann$lee")).toBe("annlee");
    expect(sanitizeAuthor("$$$")).toBe("nexus-cli");
  });
});

describe("parseStoredConfig", () => {
  it("reads url, token and author", () => {
    expect(parseStoredConfig('{"url":"http://x","token":"t","author":"a","other":1}', "/c")).toEqual({
      url: "http://x",
      token: "t",
      author: "a",
    });
  });

  it.each([
    ["{", /not valid JSON/],
    ["[]", /JSON object/],
    ['{"url": 3}', /"url" must be a string/],
  ])("refuses %s", (text, message) => {
    expect(usageFailure(() => parseStoredConfig(text, "/c")).message).toMatch(message);
  });
});
