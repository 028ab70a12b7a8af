/** A Git-bound layer as the detector last saw it imported (git.imported). */
export interface GitLayer {
  namespace: string;
  layer: string;
  sourceId: string;
  source: string;
  branch: string;
  commit: string;
  revision: number;
}

/** What a source finding keeps about its Git side (finding details). */
export interface SourceFindingGit {
  cause: "override" | "import-failed";
  /** The Git source's name and branch; null when the detector never saw the layer imported. */
  source: string | null;
  branch: string | null;
  overriddenBy?: string;
  commit?: string;
}
