export * from "./seal.js";
