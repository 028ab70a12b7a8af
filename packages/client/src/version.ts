/** Reported in heartbeats; kept equal to package.json's version by a unit test. */
export const SDK_VERSION = "0.1.0";
