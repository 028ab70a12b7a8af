import { describe, expect, it } from "vitest";
import {
  describeSilenceChanges,
  parseDuration,
  parseMatcher,
  resolveNotifierUrl,
} from "../../src/commands/notifier-fns.js";
import { CliError } from "../../src/exit-codes.js";

describe("nexus notifier argument parsing", () => {
  it("reads the four matcher operators", () => {
    expect(parseMatcher("namespace=payments")).toEqual({ label: "namespace", op: "=", value: "payments" });
    expect(parseMatcher("env!=dev")).toEqual({ label: "env", op: "!=", value: "dev" });
    expect(parseMatcher('service=~"pay.*"')).toEqual({ label: "service", op: "=~", value: "pay.*" });
    expect(parseMatcher("instance!~canary-.*")).toEqual({ label: "instance", op: "!~", value: "canary-.*" });
    expect(() => parseMatcher("no operator")).toThrow(CliError);
  });

  it("reads durations", () => {
    expect(parseDuration("90m")).toBe(90 * 60_000);
    expect(parseDuration("1d12h")).toBe(36 * 3_600_000);
    expect(() => parseDuration("2 hours")).toThrow(/not a duration/);
  });

  it("finds the notifier URL like the registry's: flag, then env, then the config file", () => {
    const file = { notifierUrl: "https://notify.example.com/" };
    expect(
      resolveNotifierUrl("http://127.0.0.1:4300", { NEXUS_NOTIFIER_URL: "https://env.example.com" }, file),
    ).toEqual({
      url: "http://127.0.0.1:4300",
      source: "flag",
    });
    expect(
      resolveNotifierUrl(undefined, { NEXUS_NOTIFIER_URL: "https://env.example.com" }, file)?.source,
    ).toBe("env");
    expect(resolveNotifierUrl(undefined, {}, file)).toEqual({
      url: "https://notify.example.com",
      source: "config",
    });
    expect(resolveNotifierUrl(undefined, {}, null)).toBeNull();
    expect(() => resolveNotifierUrl("ftp://x", {}, null)).toThrow(/must start with http/);
    expect(() => resolveNotifierUrl("https://user:pw@x", {}, null)).toThrow(/credentials/);
  });
});

describe("describeSilenceChanges", () => {
  it("says what changed in words", () => {
    expect(
      describeSilenceChanges([
        { field: "matchers", from: null, to: [{ label: "env", op: "!=", value: "dev" }] },
        { field: "expiredBy", from: null, to: "ana" },
      ]),
    ).toBe("matchers none → env!=dev; expiredBy none → ana");
    expect(describeSilenceChanges([])).toBe("no change");
  });
});
