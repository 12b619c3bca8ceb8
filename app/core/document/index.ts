// Public surface of the project document: types, building, validation, commands, history and the file format.
// Owned by app/core/document; import from here rather than from the individual modules.
export * from "./commands";
export * from "./document";
export * from "./format";
export * from "./history";
export * from "./schema";
export type * from "./types";
