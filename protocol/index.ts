export * from "./limits";
export * from "./events";
export * from "./responses";
export * from "./enriched";
export * from "./live";
export * from "./alerts";
