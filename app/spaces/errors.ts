// The one error type that importers, decoders and encoders of app/spaces let escape for bad input.
// Callers (the import pipeline, the CLI) show `message` to the user as-is. Pure TypeScript.

export class EncodingError extends Error {
  /** Name of the file (or "<bytes>") the problem was found in. */
  readonly file: string;
  /** What was wrong, without the file name. */
  readonly problem: string;
  constructor(file: string, problem: string, whatToDo = "") {
    super(`${file}: ${problem}${whatToDo ? `. ${whatToDo}` : ""}`);
    this.name = "EncodingError";
    this.file = file;
    this.problem = problem;
  }
}

/** Runs `parse` and turns anything but an EncodingError into one that names the file (third-party parsers throw strings). */
export function guardParse<T>(file: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof EncodingError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new EncodingError(
      file,
      `not a valid ${what} (${detail})`,
      "Check that the file is complete and not damaged",
    );
  }
}
