// Dispatcher of the `lcanvas` CLI: finds the command by its leading words and runs it.
// Command groups live in ./commands/, one file each; add a group to GROUPS below.
import { type CliIo, type Command, UserError } from "./command";

/** A command group: the first words of its commands, and how to load it. Loaded only when one of its words is
 * typed (or for `help`), so a slow or broken group costs nothing to the others. */
export interface CommandGroup {
  readonly words: readonly string[];
  readonly load: () => Promise<{ commands: Command[] }>;
}

export const GROUPS: readonly CommandGroup[] = [
  { words: ["layout"], load: () => import("./commands/layout") },
  { words: ["project"], load: () => import("./commands/project") },
  { words: ["import", "export"], load: () => import("./commands/encodings") },
  { words: ["show", "lineage", "query", "store"], load: () => import("./commands/store") },
  { words: ["devices"], load: () => import("./commands/devices") },
  { words: ["engine"], load: () => import("./commands/engine") },
  { words: ["synth", "sample"], load: () => import("./commands/synth") },
  { words: ["play", "bounce"], load: () => import("./commands/transport") },
  { words: ["projections", "project-encoding"], load: () => import("./commands/projections") },
];

async function loadCommands(firstWord?: string): Promise<Command[]> {
  const wanted = GROUPS.filter((group) => firstWord === undefined || group.words.includes(firstWord));
  const groups = await Promise.all(wanted.map((group) => group.load()));
  return groups.flatMap((group) => group.commands);
}

function findCommand(commands: Command[], argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of commands) {
    const n = command.path.length;
    if (argv.length >= n && command.path.every((word, i) => argv[i] === word)) {
      if (!best || n > best.command.path.length) best = { command, rest: argv.slice(n) };
    }
  }
  return best;
}

function helpText(commands: Command[]): string {
  const lines = ["Latent Canvas command line", "", "usage:"];
  for (const c of commands) lines.push(`  lcanvas ${c.usage}`, `      ${c.summary}`);
  return lines.join("\n");
}

export async function main(argv: string[], io?: CliIo): Promise<number> {
  const sink: CliIo = io ?? {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    isTty: Boolean(process.stdout.isTTY),
  };
  if (argv.length === 0 || argv[0] === "help" || argv[0] === "--help" || argv[0] === "-h") {
    sink.out(helpText(await loadCommands()));
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(await loadCommands(argv[0]), argv);
  if (!found) {
    sink.err(`lcanvas: unknown command "${argv.join(" ")}". Run "lcanvas help" for the list of commands.`);
    return 2;
  }
  try {
    return await found.command.run(found.rest, sink);
  } catch (error) {
    if (error instanceof UserError) {
      sink.err(`lcanvas ${found.command.path.join(" ")}: ${error.message}`);
      return error.exitCode;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    sink.err(`lcanvas ${found.command.path.join(" ")}: internal error (please report it):\n${detail}`);
    return 70;
  }
}
