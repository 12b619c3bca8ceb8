// Owns loading the native audio addon (lcanvas_audio.node) and its typed surface. Callers: app/audio/* only.
// LC_AUDIO_ADDON=/path/to/lcanvas_audio.node selects another build (guard or sanitizer builds).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface NativeCanvasInfo {
  sampleRate: number;
  channels: number;
  framesPerPage: number;
  pageCapacity: number;
}

export interface NativeDriverInfo {
  name: string;
  running: boolean;
  sampleRate?: number;
  bufferFrames?: number;
  latencyFrames?: number;
  realtimePriority?: boolean;
  /** rtaudio only: the API and device in use, fallback state and the last stream error. */
  api?: string;
  device?: string;
  onFallback?: boolean;
  fallbacks?: number;
  lastError?: string;
  streamCallbacks?: number;
}

export interface NativeStartOptions {
  driver: "null" | "rtaudio";
  sampleRate?: number;
  bufferFrames?: number;
  api?: string;
  deviceId?: string;
  realtimePriority?: boolean;
  prefetchPages?: number;
  lockPages?: boolean;
}

export interface NativeEngineInstance {
  openCanvas(path: string): NativeCanvasInfo;
  closeCanvas(): void;
  startDriver(options: NativeStartOptions): NativeDriverInfo;
  stopDriver(): void;
  driverInfo(): NativeDriverInfo;
  reopenDriver(): NativeDriverInfo;
  renderOffline(frames: number, blockFrames?: number): Float32Array;
  startCapture(maxFrames: number): void;
  stopCapture(): Float32Array;
  prefetch(aheadPages?: number): void;
  residentPages(streamKey: bigint, firstPage: number, count: number): number;
  evictCanvasFromPageCache(): void;
  takeMisses(maxRecords?: number): NativeMissRecord[];
  prefetchStreams(keys: bigint[], firstPage: number, pageCount: number): void;
  dispose(): void;
}

/** One page miss as the callback recorded it (native/src/engine.h MissRecord). */
export interface NativeMissRecord {
  engineFrame: number;
  timelineFrame: number;
  streamKey: bigint;
  pageIndex: number;
  head: number;
  lane: number;
  frameOffset: number;
  frames: number;
  wantedGeneration: number;
  pageGeneration: number;
  reason: number;
}

export interface NativeCanvasWriterInstance {
  writePage(streamKey: bigint, pageIndex: number, generation: number, samples: Float32Array): void;
  writePageIfAbsent(streamKey: bigint, pageIndex: number, generation: number, samples: Float32Array): boolean;
  invalidatePage(streamKey: bigint, pageIndex: number): boolean;
  freePage(streamKey: bigint, pageIndex: number): boolean;
  pagesUsed(): number;
  close(): void;
}

export interface NativeDeviceInfo {
  api: string;
  id: string;
  name: string;
  outputChannels: number;
  inputChannels: number;
  sampleRates: number[];
  preferredSampleRate: number;
  isDefaultOutput: boolean;
  isDefaultInput: boolean;
}

export interface NativeAddon {
  NativeEngine: new (
    control: Uint8Array,
    config: {
      sampleRate: number;
      channels: number;
      maxHeads: number;
      maxLanes: number;
      maxBlockFrames: number;
    },
  ) => NativeEngineInstance;
  CanvasWriter: new (path: string) => NativeCanvasWriterInstance;
  controlLayout(maxHeads: number, maxLanes: number): Record<string, number>;
  compiledApis(): string[];
  listDevices(api?: string): NativeDeviceInfo[];
  hasRtAudio: boolean;
  rtGuardBuild: boolean;
  /** Diagnostics: glibc's mallinfo2() over every arena of the process (empty object elsewhere). */
  mallocStats(): MallocStats;
  /** Diagnostics: glibc's malloc_trim(0), free arena memory back to the system; true when some was released. */
  mallocTrim(): boolean;
}

export interface MallocStats {
  arenaBytes?: number;
  mmappedBytes?: number;
  inUseBytes?: number;
  freeBytes?: number;
  topReleasableBytes?: number;
}

export const ADDON_PATH = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../native/build/Release/lcanvas_audio.node",
);

export class AddonNotBuiltError extends Error {
  constructor(path: string) {
    super(`native addon not built: run npm run setup (or npm run build:native); looked for ${path}`);
    this.name = "AddonNotBuiltError";
  }
}

let cached: NativeAddon | undefined;

export function addonPath(): string {
  return process.env["LC_AUDIO_ADDON"] ?? ADDON_PATH;
}

/** Loads the addon at path (uncached); throws AddonNotBuiltError when the file is absent. */
export function loadAddonFrom(path: string): NativeAddon {
  if (!existsSync(path)) throw new AddonNotBuiltError(path);
  const require = createRequire(import.meta.url);
  return require(path) as NativeAddon;
}

export function loadAddon(): NativeAddon {
  cached ??= loadAddonFrom(addonPath());
  return cached;
}
