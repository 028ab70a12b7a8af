import { Ajv } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { RegistryClient } from "../clients/registry-client.js";
import { promotedContent } from "./promote-fns.js";
import type { JsonObject, StepHandler, StepOutcome } from "./step-types.js";

/** ajv-formats is CommonJS; under NodeNext its default export is reached through `.default`. */
const addFormats = addFormatsModule.default;

/** The validator class for the schema's `$schema` (the drafts the registry accepts). */
function ajvFor(schema: JsonObject) {
  const declared = typeof schema.$schema === "string" ? schema.$schema.replace(/#$/, "") : "";
  const options = { allErrors: true, strict: false };
  if (declared.includes("draft-07") || declared.includes("draft-06")) return new Ajv(options);
  if (declared.includes("2019-09")) return new Ajv2019(options);
  return new Ajv2020(options);
}

/**
 * The document the target would resolve to after the promotion: the source environment's
 * resolved document (same base, the promoted overlay) with the target's values at pinned paths.
 * References resolve as they do in the source; secrets are redacted in both.
 */
export function candidateDocument(
  source: JsonObject,
  target: JsonObject,
  pinnedPaths: readonly string[],
): JsonObject {
  return promotedContent(source, target, pinnedPaths);
}

/** Where and why a document breaks a JSON Schema (every error). */
export function schemaProblems(
  schema: JsonObject,
  document: JsonObject,
): { path: string; message: string }[] {
  const ajv = ajvFor(schema);
  addFormats(ajv);
  const validate = ajv.compile(schema);
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => ({
    path: e.instancePath || "/",
    message: e.message ?? "invalid",
  }));
}

/** Schema errors as `path: message` lines. */
const schemaErrors = (schema: JsonObject, document: JsonObject): string[] =>
  schemaProblems(schema, document).map((p) => `${p.path}: ${p.message}`);

/** The namespace's JSON Schema (from the registry) and the target's compliance policies (drift-detector). */
export function createValidateStep(deps: { registry: RegistryClient }): StepHandler<"validate"> {
  const { registry } = deps;
  return async ({ run, step }): Promise<StepOutcome> => {
    const [source, target, schema] = await Promise.all([
      registry.resolved(run.namespace, run.source),
      registry.resolved(run.namespace, run.target),
      registry.schema(run.namespace),
    ]);
    const doc = candidateDocument(source.content, target.content, run.definition.pinnedPaths);
    const problems = schema ? schemaErrors(schema, doc) : [];
    const checks = schema ? ["the namespace's JSON Schema"] : [];
    if (step.policies) {
      const checked = await registry.checkPolicies(run.namespace, run.target, doc);
      problems.push(...checked.violations.map((v) => `policy ${v.policyName} at ${v.path}: ${v.message}`));
      checks.push(`${checked.evaluated} ${run.target} polic${checked.evaluated === 1 ? "y" : "ies"}`);
    }
    if (problems.length > 0)
      return {
        kind: "failed",
        reason: `the promoted document would break ${problems.length} rule(s): ${problems.slice(0, 5).join("; ")}`,
        output: problems.join("\n"),
      };
    return {
      kind: "succeeded",
      summary:
        checks.length === 0
          ? "nothing to check: the namespace has no schema and policies are off for this step"
          : `the promoted document passes ${checks.join(" and ")}${schema ? "" : " (the namespace has no schema)"}`,
    };
  };
}
