// Errors of the content store and the artifact graph. Each message says what was wrong and what to do;
// callers (CLI, engine host) show it as-is. `code` lets callers branch without parsing text.

export type StoreErrorCode =
  | "bad-hash"
  | "missing-object"
  | "damaged-object"
  | "bad-root"
  | "corrupt-graph"
  | "graph-locked"
  | "unknown-artifact"
  | "bad-artifact"
  | "bad-query"
  | "unusable-library";

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = "StoreError";
    this.code = code;
  }
}
