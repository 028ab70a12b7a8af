import { describe, expect, it } from "vitest";
import { AgentConfigError, parseAgentConfig } from "../../src/agent/agent-config.js";

const problemsOf = (text: string): string[] => {
  try {
    parseAgentConfig(text, "agent.yaml");
  } catch (err) {
    if (err instanceof AgentConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected the file to be refused");
};

describe("the agent's config file", () => {
  it("reads a complete file with defaults filled in", () => {
    const config = parseAgentConfig(
      `service: edge
url: http://registry:4100
sources:
  - namespace: edge
    environment: production
    files:
      - { path: /etc/edge.json, format: json, mode: "0640" }
      - { path: /etc/edge.conf, format: template, template: /t/edge.hbs, validate: "nginx -t -c {file}" }
reload:
  signal: SIGHUP
  pidFile: /run/nginx.pid
`,
      "agent.yaml",
    );
    expect(config.sources[0]!.files[0]).toMatchObject({ mode: 0o640, envPrefix: "" });
    expect(config.sources[0]!.files[1]).toMatchObject({ mode: 0o600, validate: "nginx -t -c {file}" });
    expect(config.reload).toEqual({ signal: "SIGHUP", pidFile: "/run/nginx.pid", timeoutSeconds: 10 });
  });

  it("names the line of each problem", () => {
    const problems = problemsOf(`service: edge
url: http://registry:4100
sources:
  - namespace: edge
    environment: Production
    files:
      - path: /etc/a.json
        format: xml
`);
    expect(problems).toEqual([
      expect.stringMatching(/^agent\.yaml:5: sources\[0\]\.environment: /),
      expect.stringMatching(/^agent\.yaml:8: sources\[0\]\.files\[0\]\.format: /),
    ]);
  });

  it("refuses contradictions: no transport, a template without its file, signal without a pid, reload with supervise", () => {
    expect(problemsOf("service: edge\nsources:\n  - { namespace: a, environment: b }\n")[0]).toMatch(
      /^agent\.yaml:1: url: give `url`/,
    );
    expect(
      problemsOf(
        "service: edge\nurl: http://r:1\nsources:\n  - namespace: a\n    environment: b\n    files:\n      - { path: /x, format: template }\n",
      )[0],
    ).toMatch(/^agent\.yaml:7: sources\[0\]\.files\[0\]\.template: `template` is required/);
    expect(
      problemsOf(
        "service: edge\nurl: http://r:1\nsources: [{ namespace: a, environment: b }]\nreload:\n  signal: SIGHUP\n",
      )[0],
    ).toMatch(/^agent\.yaml:5: reload\.signal: `signal` needs exactly one of `pid` or `pidFile`/);
    expect(
      problemsOf(
        "service: edge\nurl: http://r:1\nsources: [{ namespace: a, environment: b }]\nreload: { command: x }\nsupervise: {}\n",
      )[0],
    ).toMatch(/^agent\.yaml:4: reload: a supervised child/);
  });

  it("reports YAML syntax errors and unknown keys with their line", () => {
    expect(problemsOf("service: edge\nsources: [\n")[0]).toMatch(/^agent\.yaml:\d+: /);
    expect(
      problemsOf(
        "service: edge\nurl: http://r:1\nsources: [{ namespace: a, environment: b }]\nreloda: {}\n",
      )[0],
    ).toMatch(/^agent\.yaml:1: .*reloda/);
  });
});
