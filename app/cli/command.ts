// The command model of the `lcanvas` CLI: each command group registers Command objects; main.ts dispatches.
// A command writes its result to `io.out` (JSON for machine-readable results) and returns an exit code.

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stdout is a terminal (progress bars), false when piped (plain lines). */
  isTty: boolean;
}

export interface Command {
  /** Words that select the command, e.g. ["layout", "inspect"]. */
  path: string[];
  /** One line of usage, shown by `lcanvas help`. */
  usage: string;
  summary: string;
  run: (args: string[], io: CliIo) => Promise<number> | number;
}

/** An error whose message is meant for the user as-is (what was wrong, what to do); exit code 1 or 2 (usage). */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "UserError";
    this.exitCode = exitCode;
  }
}

export function usageError(command: Command, problem: string): UserError {
  return new UserError(`${problem}\nusage: lcanvas ${command.usage}`, 2);
}

export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value));
}
