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
