// The one error type of app/core/canvas: a message for the user naming what was wrong (with a field path
// such as `regions.thought.period` when there is one) and what to do. Thrown by layout, topology and schema code.

export class CanvasError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CanvasError";
  }
}
