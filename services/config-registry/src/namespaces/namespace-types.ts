/** The layer every environment of a namespace starts from. */
export const BASE_LAYER = "base";

import { type NamespaceDto, NamespaceName } from "@nexus/contracts";
import { z } from "zod";

/**
 * A namespace as stored and shown. Its HTTP shapes (`NamespaceDto`, `CreateNamespaceBody`,
 * `UpdateNamespaceBody`, `NamespacePageDto`) live in @nexus/contracts, which the CLI reads too.
 */
export type Namespace = NamespaceDto;

export const NamespaceParams = z.object({ ns: NamespaceName });
