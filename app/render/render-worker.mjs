// JavaScript entry of a render worker from source when bundling is impossible: Node 20 does not apply
// `--import tsx` inside worker threads, so this loads the TypeScript worker through tsx's API. Started by pool.ts.
import { tsImport } from "tsx/esm/api";

await tsImport("./render-worker.ts", import.meta.url);
