// app/core is pure TypeScript: no Node builtins, Electron, React, Pixi, or anything outside app/core.
// This scans every source file under app/core with the TypeScript parser and lists each offending import.
// Exception: the platform-free packages in PURE_PACKAGES (see docs/canvas.md).
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const CORE = resolve("app/core");
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs|jsx)$/;
const NAMED = ["electron", "react", "pixi.js"];
// Platform-free packages core may use (pure JavaScript, no Node or DOM APIs); anything else outside app/core fails.
const PURE_PACKAGES = ["zod"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return SOURCE.test(entry.name) ? [path] : [];
  });
}

/** Why `specifier`, imported from `file`, is not allowed in app/core (null when it is). */
function violation(file: string, specifier: string): string | null {
  if (specifier.startsWith("node:")) return "a Node builtin";
  const bare = specifier.split("/")[0]!;
  if (builtinModules.includes(specifier) || builtinModules.includes(bare)) return "a Node builtin";
  for (const name of NAMED) {
    if (specifier === name || specifier.startsWith(`${name}/`)) return `${name} (UI/shell)`;
  }
  if (PURE_PACKAGES.includes(bare)) return null;
  if (!specifier.startsWith(".")) return "a package outside app/core";
  const target = resolve(dirname(file), specifier);
  if (target !== CORE && !target.startsWith(CORE + sep)) return "a path outside app/core";
  return null;
}

/** Every import, export-from, dynamic import and require of a source text, with its violation if any. */
function importsOf(file: string, text: string): Array<{ specifier: string; problem: string | null }> {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map(({ fileName }) => ({
    specifier: fileName,
    problem: violation(file, fileName),
  }));
}

describe("app/core boundary", () => {
  it("no file under app/core imports Node, Electron, React, Pixi, or anything outside app/core", () => {
    const files = sourceFiles(CORE);
    expect(files.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const file of files) {
      for (const { specifier, problem } of importsOf(file, readFileSync(file, "utf8"))) {
        if (problem !== null)
          problems.push(`${relative(process.cwd(), file)} imports "${specifier}": ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("the scanner catches every kind of forbidden import and allows relative imports inside app/core", () => {
    const file = join(CORE, "canvas", "probe.ts");
    const source = [
      'import { readFileSync } from "fs";',
      'import type { Stats } from "node:fs";',
      'export * from "react";',
      'const pixi = await import("pixi.js");',
      'const e = require("electron");',
      'import "../../store/types";',
      'import { x } from "lodash";',
      'import { y } from "react-dom/client";',
      'import { z } from "./layout";',
      'import { w } from "../time/tempo-map";',
      'import { v } from "zod";',
    ].join("\n");
    expect(importsOf(file, source)).toEqual([
      { specifier: "fs", problem: "a Node builtin" },
      { specifier: "node:fs", problem: "a Node builtin" },
      { specifier: "react", problem: "react (UI/shell)" },
      { specifier: "pixi.js", problem: "pixi.js (UI/shell)" },
      { specifier: "electron", problem: "electron (UI/shell)" },
      { specifier: "../../store/types", problem: "a path outside app/core" },
      { specifier: "lodash", problem: "a package outside app/core" },
      { specifier: "react-dom/client", problem: "a package outside app/core" },
      { specifier: "./layout", problem: null },
      { specifier: "../time/tempo-map", problem: null },
      { specifier: "zod", problem: null },
    ]);
  });
});
