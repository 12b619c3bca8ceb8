#!/usr/bin/env node
// Entry point of the `lcanvas` command: runs the TypeScript CLI (app/cli/main.ts) from an esbuild bundle kept fresh
// by ./cli-bundle.mjs, or through tsx when it cannot (LCANVAS_FROM_SOURCE=1 forces the latter).
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { startCli } from "./cli-bundle.mjs";

// The store's SQLite is WebAssembly. By default V8 recompiles every wasm function that has run a little with its
// optimizing compiler on background threads: opening a library cost ~200 ms of CPU that way (measured: 238 ms of
// process CPU to load node-sqlite3-wasm and open a database, 43 ms with this budget), taken from the render
// workers on a 2-core machine. A 100x budget leaves start-up code on the baseline compiler and still optimizes
// what runs long (a resampler's or decoder's inner loop). Set before any wasm module is compiled.
setFlagsFromString("--wasm-tiering-budget=180000000");

process.exitCode = await startCli(dirname(dirname(fileURLToPath(import.meta.url))), process.argv.slice(2));
