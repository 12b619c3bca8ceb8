// Progress and live status lines of long CLI work: on a terminal one line that redraws in place (a bar when the
// total is known), otherwise plain lines at most every `plainIntervalMs`. Owned by app/cli; used by play/bounce.
import type { CliIo } from "./command";

export interface ProgressOptions {
  /** Writes text without a newline (a TTY redraw); default process.stdout.write. */
  readonly write?: (text: string) => void;
  /** Minimum time between plain lines (not a TTY). Default 1000 ms. */
  readonly plainIntervalMs?: number;
  readonly barWidth?: number;
  readonly now?: () => number;
}

export class Progress {
  readonly #io: CliIo;
  readonly #write: (text: string) => void;
  readonly #plainIntervalMs: number;
  readonly #barWidth: number;
  readonly #now: () => number;
  #lastPlainMs = Number.NEGATIVE_INFINITY;
  #lastPlainText = "";
  #drawn = false;

  constructor(io: CliIo, options: ProgressOptions = {}) {
    this.#io = io;
    this.#write = options.write ?? ((text) => process.stdout.write(text));
    this.#plainIntervalMs = options.plainIntervalMs ?? 1000;
    this.#barWidth = options.barWidth ?? 30;
    this.#now = options.now ?? Date.now;
  }

  /** A status line (e.g. live stats): redrawn in place on a TTY, a plain line otherwise (rate-limited). */
  status(text: string, force = false): void {
    if (this.#io.isTty) {
      this.#write(`\r\x1b[2K${text}`);
      this.#drawn = true;
      return;
    }
    const now = this.#now();
    if (!force && (now - this.#lastPlainMs < this.#plainIntervalMs || text === this.#lastPlainText)) return;
    this.#lastPlainMs = now;
    this.#lastPlainText = text;
    this.#io.out(text);
  }

  /** A step of work with a known total: a bar on a TTY, "label done/total (p%)" lines otherwise. */
  update(label: string, done: number, total: number): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const percent = Math.floor(fraction * 100);
    if (this.#io.isTty) {
      const filled = Math.round(fraction * this.#barWidth);
      const bar = `${"#".repeat(filled)}${"-".repeat(this.#barWidth - filled)}`;
      this.status(`${label} [${bar}] ${percent}% (${done}/${total})`);
      return;
    }
    this.status(`${label} ${done}/${total} (${percent}%)`, done >= total);
  }

  /** Ends the redrawn line (TTY) so following output starts on a fresh line. */
  done(): void {
    if (this.#io.isTty && this.#drawn) this.#write("\n");
    this.#drawn = false;
  }
}
