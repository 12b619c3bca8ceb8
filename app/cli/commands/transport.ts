// `lcanvas play` and `lcanvas bounce`: a project played live through the engine host (with live stats and an
// optional capture of what the callback produced), or bounced offline through the same kernel.
// Owned by the host helper; the logic lives in app/host (session.ts, bounce.ts).
import { resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { BounceBits } from "../../host/bounce";
import type { SessionMiss, SessionStats } from "../../host/session";
import { writeFileAtomic } from "../../project/atomic-write";
import { type CliIo, type Command, printJson, UserError, usageError } from "../command";
import { Progress } from "../progress";

/** Errors of these classes carry a message for the user (what was wrong, what to do). */
const USER_ERRORS = new Set([
  "HostError",
  "ProjectError",
  "SoundFontError",
  "EncodingError",
  "StoreError",
  "CanvasFileError",
  "AddonNotBuiltError",
  "RenderError",
  "DocumentError",
  "MidiSequenceError",
  "RealizeError",
]);

function asUserError(error: unknown): unknown {
  if (!(error instanceof Error) || !USER_ERRORS.has(error.name)) return error;
  if ((error as { code?: string }).code === "missing-object") {
    const hash = /object ([0-9a-f]{32})/.exec(error.message)?.[1] ?? "";
    return new UserError(
      `the project's library lacks the encoding ${hash} that a region plays (${error.message.split(". ")[0]}): import that file again into the project's library, or restore the library folder from a backup`,
    );
  }
  return new UserError(error.message);
}

function parse<T extends ParseArgsConfig["options"]>(command: Command, args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true as const, strict: true as const });
  } catch (error) {
    throw usageError(command, (error as Error).message);
  }
}

function positiveNumber(command: Command, name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw usageError(command, `--${name} must be a number > 0, got "${text}"`);
  return value;
}

function statsLine(stats: SessionStats, sampleRate: number, elapsedMs: number): string {
  const heads = stats.heads
    .filter((h) => h.playing)
    .map((h) => `${h.name} beat ${h.positionBeat.toFixed(2)}`)
    .join(" | ");
  const e = stats.engine;
  const r = stats.renderer;
  return [
    `${(elapsedMs / 1000).toFixed(1)}s`,
    `[${stats.driver}]`,
    heads || "stopped",
    `ahead ${(Math.min(...stats.heads.map((h) => r.readyAheadFrames[h.id] ?? 0)) / sampleRate).toFixed(1)}s`,
    `pages ${r.pagesRendered} (+${r.pagesCopied} copied)`,
    `queue ${r.queueLength}`,
    `misses ${e.pageMisses}`,
    `late ${e.lateBlocks}`,
    `cb max ${(e.maxCallbackNs / 1000).toFixed(0)}us`,
    `end ${(stats.endFrame / sampleRate).toFixed(1)}s`,
  ].join("  ");
}

/** "Alpha / Keys at beat 12.50 (page 140 absent, 256 frames of silence)": where a musician heard a dropout. */
export function describeMiss(miss: SessionMiss): string {
  return `${miss.headName} / ${miss.laneName} at beat ${miss.atBeat.toFixed(2)} (page ${miss.pageIndex} ${miss.reason}, ${miss.frames} frames of silence)`;
}

function missJson(miss: SessionMiss): Record<string, unknown> {
  return {
    head: miss.headName,
    lane: miss.laneName,
    atBeat: Math.round(miss.atBeat * 1000) / 1000,
    timelineFrame: miss.timelineFrame,
    engineFrame: miss.engineFrame,
    frames: miss.frames,
    pageIndex: miss.pageIndex,
    streamKey: `0x${miss.streamKey.toString(16)}`,
    reason: miss.reason,
  };
}

const PLAY_OPTIONS = {
  heads: { type: "string" },
  seconds: { type: "string" },
  driver: { type: "string" },
  api: { type: "string" },
  device: { type: "string" },
  capture: { type: "string" },
  soundfont: { type: "string" },
  "buffer-frames": { type: "string" },
  lookahead: { type: "string" },
} as const;

const play: Command = {
  path: ["play"],
  usage:
    "play PROJECT [--heads N] [--seconds S] [--driver rtaudio|null] [--api jack|pulse|alsa] [--capture OUT.wav] [--soundfont FILE]",
  summary: "play a project's attention heads through the audio engine, with live stats (Ctrl-C stops)",
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(play, args, PLAY_OPTIONS);
    if (positionals.length !== 1) throw usageError(play, "give exactly one PROJECT folder");
    const driver = values.driver ?? "rtaudio";
    if (driver !== "rtaudio" && driver !== "null") {
      throw usageError(play, `--driver must be rtaudio or null, got "${driver}"`);
    }
    if (values.api !== undefined && !["jack", "pulse", "alsa"].includes(values.api)) {
      throw usageError(play, `--api must be jack, pulse or alsa, got "${values.api}"`);
    }
    const seconds = positiveNumber(play, "seconds", values.seconds);
    const headCount = positiveNumber(play, "heads", values.heads);
    if (headCount !== undefined && !Number.isInteger(headCount)) {
      throw usageError(play, `--heads must be a whole number, got "${values.heads}"`);
    }
    const bufferFrames = positiveNumber(play, "buffer-frames", values["buffer-frames"]);
    const lookahead = positiveNumber(play, "lookahead", values.lookahead);
    const projectDir = resolve(positionals[0]!);
    const { openSession } = await import("../../host/session");
    const { stereoWav } = await import("../../host/bounce");
    let session: Awaited<ReturnType<typeof openSession>>;
    try {
      session = await openSession(projectDir, {
        driver,
        autosaveMs: 0,
        onNote: (text) => io.err(`note: ${text}`),
        ...(values.api === undefined ? {} : { api: values.api }),
        ...(values.device === undefined ? {} : { device: values.device }),
        ...(values.soundfont === undefined ? {} : { soundfont: values.soundfont }),
        ...(bufferFrames === undefined ? {} : { bufferFrames }),
        ...(lookahead === undefined ? {} : { lookaheadSeconds: lookahead }),
      });
    } catch (error) {
      throw asUserError(error);
    }
    const progress = new Progress(io, { plainIntervalMs: 500 });
    let interrupted = false;
    const onSigint = () => {
      interrupted = true;
    };
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigint);
    // A closed stdout (piped into `head`) ends playback like Ctrl-C, so the session still closes cleanly; the
    // listener then stays, as later writes fail the same way.
    let stdoutClosed = false;
    const onStdoutError = () => {
      stdoutClosed = true;
      interrupted = true;
    };
    process.stdout.on("error", onStdoutError);
    try {
      const all = session.headIds();
      const heads = headCount === undefined ? all : all.slice(0, headCount);
      if (heads.length === 0)
        throw new UserError(`the project in ${projectDir} has no attention heads: add one`);
      const startedMs = Date.now();
      progress.status("rendering ahead of the heads...", true);
      await session.waitReady({ heads }).catch((error: unknown) => {
        throw asUserError(error);
      });
      const sampleRate = session.sampleRate;
      if (values.capture !== undefined) {
        const end = session.renderer.endFrame();
        const limitSeconds = seconds ?? end / sampleRate + 1;
        session.startCapture(Math.ceil(limitSeconds * sampleRate) + 8 * session.bufferFrames);
      }
      for (const id of heads) session.play(id);
      let info: ReturnType<typeof session.start>;
      try {
        info = session.start();
      } catch (error) {
        throw asUserError(error);
      }
      const playStartMs = Date.now();
      progress.done();
      io.err(
        `playing ${heads.length} head(s) through the ${info.name} driver at ${sampleRate} Hz (ready after ${playStartMs - startedMs} ms)`,
      );
      const loops = new Set(session.document.heads.filter((h) => h.loopEnabled).map((h) => h.id));
      for (;;) {
        await new Promise((r) => setTimeout(r, 100));
        const stats = session.stats();
        const elapsedMs = Date.now() - playStartMs;
        progress.status(statsLine(stats, sampleRate, elapsedMs));
        if (interrupted) break;
        if (seconds !== undefined && elapsedMs >= seconds * 1000) break;
        const finished = stats.heads
          .filter((h) => heads.includes(h.id))
          .every((h) => !loops.has(h.id) && h.positionFrames >= stats.endFrame);
        if (finished) break;
      }
      session.engine.stop();
      const stats = session.stats();
      progress.status(statsLine(stats, sampleRate, Date.now() - playStartMs), true);
      progress.done();
      if (stats.engine.pageMisses > 0) {
        const reasons = Object.entries(stats.misses.byReason)
          .map(([reason, n]) => `${n} ${reason}`)
          .join(", ");
        io.err(
          `page misses: ${stats.engine.pageMisses} (silent lane-segments${reasons ? `; ${reasons}` : ""}); first:`,
        );
        for (const miss of stats.misses.first.slice(0, 5)) io.err(`  ${describeMiss(miss)}`);
      }
      let captured: { file: string; frames: number } | undefined;
      if (values.capture !== undefined) {
        const samples = session.stopCapture();
        const file = resolve(values.capture);
        await writeFileAtomic(file, stereoWav(samples, sampleRate, "32f").bytes);
        captured = { file, frames: samples.length / 2 };
      }
      printJson(io, {
        project: projectDir,
        driver: stats.driver,
        interrupted,
        heads: stats.heads.map((h) => ({
          name: h.name,
          positionBeat: h.positionBeat,
          positionFrames: h.positionFrames,
        })),
        engine: stats.engine,
        misses: {
          recorded: stats.misses.recorded,
          byReason: stats.misses.byReason,
          first: stats.misses.first.map(missJson),
        },
        renderer: { ...stats.renderer },
        ...(captured ? { capture: captured } : {}),
      });
      return 0;
    } finally {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigint);
      if (!stdoutClosed) process.stdout.off("error", onStdoutError);
      await session.close();
    }
  },
};

const BOUNCE_OPTIONS = {
  out: { type: "string" },
  stems: { type: "string" },
  head: { type: "string" },
  bits: { type: "string" },
  soundfont: { type: "string" },
  synth: { type: "string" },
} as const;

const bounceCommand: Command = {
  path: ["bounce"],
  usage:
    "bounce PROJECT --out MIX.wav [--stems DIR] [--head NAME] [--bits 16|24|32f] [--soundfont FILE] [--synth fluidsynth|spessasynth]",
  summary: "render a project offline through the engine's kernel into a WAV file (and one WAV per lane)",
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(bounceCommand, args, BOUNCE_OPTIONS);
    if (positionals.length !== 1) throw usageError(bounceCommand, "give exactly one PROJECT folder");
    if (values.out === undefined) throw usageError(bounceCommand, "--out MIX.wav is required");
    const bits = values.bits ?? "32f";
    if (bits !== "16" && bits !== "24" && bits !== "32f") {
      throw usageError(bounceCommand, `--bits must be 16, 24 or 32f, got "${bits}"`);
    }
    // The synthesizer is a process-wide choice (stream keys and render workers read it): --synth sets it.
    const { chooseSynth, SYNTH_ENV } = await import("../../spaces/synth/backend");
    let synthNote: string | undefined;
    try {
      if (values.synth !== undefined) {
        chooseSynth(values.synth);
        process.env[SYNTH_ENV] = values.synth;
      }
      synthNote = chooseSynth().note;
    } catch (error) {
      throw usageError(bounceCommand, (error as Error).message);
    }
    if (synthNote) io.err(`note: ${synthNote}`);
    const { bounce } = await import("../../host/bounce");
    const progress = new Progress(io);
    // A closed stdout must not stop the bounce half way (the WAV is still written; lines are lost).
    process.stdout.on("error", () => undefined);
    const labels = { render: "rendering pages", mix: "mixing", stems: "stems" } as const;
    try {
      const result = await bounce(resolve(positionals[0]!), {
        out: resolve(values.out),
        bits: bits as BounceBits,
        ...(values.stems === undefined ? {} : { stems: resolve(values.stems) }),
        ...(values.head === undefined ? {} : { head: values.head }),
        ...(values.soundfont === undefined ? {} : { session: { soundfont: values.soundfont } }),
        onProgress: (p) => progress.update(labels[p.phase], p.done, p.total),
      });
      progress.done();
      printJson(io, result);
      return 0;
    } catch (error) {
      progress.done();
      throw asUserError(error);
    }
  },
};

export const commands: Command[] = [play, bounceCommand];
