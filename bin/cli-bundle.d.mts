// Types of ./cli-bundle.mjs (plain JavaScript, because it runs before TypeScript can be loaded), for the tests.
export declare const ENTRIES: Readonly<Record<"main" | "render-worker" | "bounce-worker", string>>;
export declare const INLINE_PACKAGES: readonly string[];
export declare const PRUNE_AFTER_MS: number;
export declare function cacheDir(root: string): string;
export declare function pointerPath(root: string): string;
export declare function checkBundle(
  root: string,
  esbuildVersion: string,
): { dir: string; stale?: undefined } | { dir?: undefined; stale: string };
export declare function snapshotInputs(
  files: readonly string[],
  buildStartedMs: number,
): Record<string, { mtimeMs: number; size: number }>;
export declare function buildBundle(root: string, esbuildVersion: string): Promise<string>;
export declare function prune(cache: string, nowMs?: number): void;
export declare function freshBundle(root: string, trace: (line: string) => void): Promise<string | undefined>;
export declare function startCli(root: string, argv: string[]): Promise<number>;
