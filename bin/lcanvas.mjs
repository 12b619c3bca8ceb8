#!/usr/bin/env node
// Entry point of the `lcanvas` command: runs the TypeScript CLI (app/cli/main.ts) from an esbuild bundle kept fresh
// by ./cli-bundle.mjs, or through tsx when it cannot (LCANVAS_FROM_SOURCE=1 forces the latter).
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startCli } from "./cli-bundle.mjs";

process.exitCode = await startCli(dirname(dirname(fileURLToPath(import.meta.url))), process.argv.slice(2));
