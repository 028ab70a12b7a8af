/**
 * Writes (or with --check, verifies) packages/contracts/asyncapi.json from the zod contract, so
 * the published document can never drift from the code.
 */
import { fileURLToPath } from "node:url";
import { writeOrCheckGenerated } from "../../../scripts/lib/generated-file.js";
import { buildAsyncApi } from "../src/asyncapi.js";

const target = fileURLToPath(new URL("../asyncapi.json", import.meta.url));
const generated = `${JSON.stringify(buildAsyncApi(), null, 2)}\n`;

writeOrCheckGenerated(target, generated, "packages/contracts/asyncapi.json", "pnpm asyncapi");
