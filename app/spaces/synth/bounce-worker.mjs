// JavaScript entry of a bounce worker thread: Node 20 does not apply `--import tsx` inside worker threads, so
// this loads the TypeScript worker through tsx's API. Started only by bounce.ts.
import { tsImport } from "tsx/esm/api";

await tsImport("./bounce-worker.ts", import.meta.url);
