import { describe, expect, it } from "vitest";
import {
  boundLayersOf,
  branchesOf,
  branchOfRef,
  contentTypeOfPath,
  importOrder,
  layersToImport,
  redactUrl,
  repositoryHost,
  repositoryOfUrl,
} from "../../src/git-sources/git-source-fns.js";

const source = {
  namespaces: ["payments", "billing"],
  environments: { production: "main", staging: "staging" },
  baseBranch: "main",
  layout: { base: "config/<namespace>/base.yaml", environment: "config/<namespace>/<environment>.yaml" },
};

describe("Git source layout", () => {
  it("derives owner/name from https, ssh, scp-like and file URLs", () => {
    expect(repositoryOfUrl("https://github.com/acme/config.git")).toBe("acme/config");
    expect(repositoryOfUrl("ssh://git@gitlab.com/group/sub/config.git")).toBe("group/sub/config");
    expect(repositoryOfUrl("git@github.com:acme/config.git")).toBe("acme/config");
    expect(repositoryOfUrl("file:///tmp/x/acme/config.git")).toBe("acme/config");
  });

  it("binds base to the base branch and each environment to its branch", () => {
    const bound = boundLayersOf(source);
    expect(bound).toContainEqual({
      namespace: "billing",
      layer: "base",
      branch: "main",
      path: "config/billing/base.yaml",
    });
    expect(bound).toContainEqual({
      namespace: "payments",
      layer: "staging",
      branch: "staging",
      path: "config/payments/staging.yaml",
    });
    expect(bound).toHaveLength(6);
    expect(boundLayersOf({ ...source, baseBranch: null }).some((b) => b.layer === "base")).toBe(false);
    expect(branchesOf(source)).toEqual(["main", "staging"]);
  });

  it("imports the touched files of the pushed branch only, or all of them when the list is unknown", () => {
    const bound = boundLayersOf(source);
    const touched = layersToImport(bound, "main", [
      "config/payments/production.yaml",
      "config/payments/staging.yaml",
      "README.md",
    ]);
    expect(touched.map((b) => `${b.namespace}/${b.layer}`)).toEqual(["payments/production"]);
    expect(layersToImport(bound, "main", null)).toHaveLength(4);
    expect(layersToImport(bound, "feature", null)).toHaveLength(0);
  });

  it("orders an import by namespace, base first (one lock order for every import)", () => {
    const order = importOrder(boundLayersOf(source)).map((b) => `${b.namespace}/${b.layer}`);
    expect(order).toEqual([
      "billing/base",
      "billing/production",
      "billing/staging",
      "payments/base",
      "payments/production",
      "payments/staging",
    ]);
  });

  it("reads refs, formats and URLs", () => {
    expect(branchOfRef("refs/heads/release/1.2")).toBe("release/1.2");
    expect(branchOfRef("refs/tags/v1")).toBeNull();
    expect(contentTypeOfPath("a/b.yml")).toBe("application/yaml");
    expect(contentTypeOfPath("a/.env")).toBe("application/x-env");
    expect(contentTypeOfPath("a/prod.env")).toBe("application/x-env");
    expect(contentTypeOfPath("a/b.json")).toBe("application/json");
    expect(redactUrl("https://user:pass@example.test/a.git")).toBe("https://example.test/a.git");
  });
});

describe("repositoryHost", () => {
  it("names the host git connects to, and none for a local path", () => {
    expect(repositoryHost("https://git.example.com/acme/config.git")).toBe("git.example.com");
    expect(repositoryHost("ssh://git@10.0.0.5:2222/acme/config.git")).toBe("10.0.0.5");
    expect(repositoryHost("git@github.com:acme/config.git")).toBe("github.com");
    expect(repositoryHost("https://[::1]:8443/acme/config.git")).toBe("::1");
    expect(repositoryHost("file:///srv/git/config.git")).toBeNull();
  });
});
