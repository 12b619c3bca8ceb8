// Benchmark of the content store and the artifact graph; writes bench/results/store.md.
// Run: node --import tsx bench/store/run.ts [--file-mb 256] [--artifacts 100000] [--out bench/results/store.md]
// Not part of npm test. Peers in the same run: raw BLAKE3 and Node's sha256 on the same bytes; a read-everything
// (non-streaming) put; and the origin system's persistence (whole graph as one JSON file, loaded and filtered).
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  hashBytes,
  type NewArtifact,
  openLibrary,
  runGraphQuery,
  StreamingHash,
} from "../../app/store/index";

const { values } = parseArgs({
  options: {
    "file-mb": { type: "string", default: "256" },
    artifacts: { type: "string", default: "100000" },
    out: { type: "string", default: "bench/results/store.md" },
  },
});
const FILE_MB = Number(values["file-mb"]);
const ARTIFACTS = Number(values.artifacts);
const CHUNK = 1 << 20;

const rows: string[][] = [];
function record(group: string, what: string, value: string, note = ""): void {
  rows.push([group, what, value, note]);
  process.stdout.write(`${group} | ${what} | ${value} ${note}\n`);
}

function gbps(bytes: number, ms: number): string {
  return `${(bytes / 1e9 / (ms / 1000)).toFixed(2)} GB/s`;
}

async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** Best of `runs` (the machine is shared; the minimum is the least disturbed run). */
async function best<T>(runs: number, fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  let result = await time(fn);
  for (let i = 1; i < runs; i++) {
    const next = await time(fn);
    if (next.ms < result.ms) result = next;
  }
  return result;
}

async function streamFile(path: string, update: (chunk: Buffer) => void): Promise<number> {
  const handle = await open(path, "r");
  const buffer = Buffer.allocUnsafe(CHUNK);
  let total = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      update(buffer.subarray(0, bytesRead));
      total += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return total;
}

/** Peak RSS growth over the baseline while `fn` runs, sampled every 2 ms. */
async function peakRssGrowth<T>(
  fn: () => Promise<T>,
): Promise<{ growthBytes: number; value: T; ms: number }> {
  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  try {
    const { ms, value } = await time(fn);
    peak = Math.max(peak, process.memoryUsage.rss());
    return { growthBytes: peak - baseline, value, ms };
  } finally {
    clearInterval(timer);
  }
}

async function benchIngest(work: string): Promise<void> {
  const group = "ingest";
  const bytes = FILE_MB * 1024 * 1024;
  const file = join(work, "input.bin");
  const handle = await open(file, "w");
  const block = randomBytes(CHUNK);
  for (let written = 0; written < bytes; written += CHUNK) {
    block.writeUInt32LE(written >>> 0, 0);
    await handle.write(block);
  }
  await handle.close();
  record(group, "input", `${FILE_MB} MiB file`, "(in the page cache: measures CPU + copy, not the disk)");

  const raw = await best(3, () =>
    streamFile(file, (chunk) => {
      hashBytes(chunk);
    }),
  );
  const blake = await best(3, async () => {
    const hasher = new StreamingHash();
    await streamFile(file, (chunk) => hasher.update(chunk));
    return hasher.digest();
  });
  const sha = await best(3, async () => {
    const hasher = createHash("sha256");
    await streamFile(file, (chunk) => hasher.update(chunk));
    return hasher.digest("hex");
  });
  const readOnly = await best(3, () => streamFile(file, () => undefined));
  record(group, "read only (1 MiB chunks)", gbps(bytes, readOnly.ms));
  record(group, "BLAKE3 streaming hash (read + hash)", gbps(bytes, blake.ms));
  record(group, "BLAKE3 per-chunk one-shot (read + hash)", gbps(bytes, raw.ms));
  record(group, "Node sha256 streaming (read + hash, peer)", gbps(bytes, sha.ms));

  const memory = Buffer.allocUnsafe(64 * 1024 * 1024);
  await streamFile(file, () => undefined);
  const inMemoryBlake = await best(3, () => hashBytes(memory));
  const inMemorySha = await best(3, () => createHash("sha256").update(memory).digest("hex"));
  record(group, "BLAKE3 in memory, 64 MiB", gbps(memory.byteLength, inMemoryBlake.ms));
  record(group, "Node sha256 in memory, 64 MiB (peer)", gbps(memory.byteLength, inMemorySha.ms));

  const library = await openLibrary(join(work, "library"));
  const streamed = await peakRssGrowth(() => library.store.putFile(file));
  if (streamed.value !== blake.value) throw new Error("putFile hash differs from the streaming hash");
  record(group, "store.putFile (hash + copy + fsync + rename)", gbps(bytes, streamed.ms));
  record(
    group,
    "store.putFile peak RSS growth",
    `${(streamed.growthBytes / 2 ** 20).toFixed(1)} MiB`,
    `for a ${FILE_MB} MiB file`,
  );
  const again = await time(() => library.store.putFile(file));
  record(
    group,
    "store.putFile of content already stored",
    gbps(bytes, again.ms),
    "(hash only, then refresh mtime)",
  );
  await rm(join(work, "library"), { recursive: true });
  const library2 = await openLibrary(join(work, "library"));
  const whole = await peakRssGrowth(async () => library2.store.put(await readFile(file)));
  record(group, "readFile + store.put (peer: not streaming)", gbps(bytes, whole.ms));
  record(
    group,
    "readFile + store.put peak RSS growth (peer)",
    `${(whole.growthBytes / 2 ** 20).toFixed(1)} MiB`,
  );

  const small = Array.from({ length: 2000 }, (_, i) => {
    const b = randomBytes(4096);
    b.writeUInt32LE(i, 0);
    return b;
  });
  const smallHash = await time(() => {
    for (const b of small) hashBytes(b);
  });
  const smallPut = await time(async () => {
    for (const b of small) await library2.store.put(b);
  });
  record(group, "2,000 x 4 KiB: hash only", `${Math.round(small.length / (smallHash.ms / 1000))} objects/s`);
  record(
    group,
    "2,000 x 4 KiB: store.put (fsync file + dir each)",
    `${Math.round(small.length / (smallPut.ms / 1000))} objects/s`,
    "(durability costs dominate)",
  );
  await library.close();
  await library2.close();
  await rm(file);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function benchGraph(work: string): Promise<void> {
  const group = `graph (${ARTIFACTS.toLocaleString("en-US")} artifacts)`;
  const random = mulberry32(42);
  const spaces = ["midi", "audio", "abc", "style", "tokens"];
  const chainLength = Math.min(10_000, Math.floor(ARTIFACTS / 10));
  const t0 = Date.UTC(2026, 0, 1);
  const yearMs = 365 * 24 * 3600 * 1000;
  const library = await openLibrary(join(work, "graph-library"));
  const hash = await library.store.put(new TextEncoder().encode("shared bytes for every benchmark artifact"));
  const artifacts: NewArtifact[] = [];
  for (let i = 0; i < ARTIFACTS; i++) {
    const inChain = i < chainLength;
    const parents: string[] = [];
    if (inChain && i > 0) parents.push(`a${i - 1}`);
    if (!inChain) {
      parents.push(`a${Math.floor(random() * i)}`);
      if (random() < 0.1) {
        const second = `a${Math.floor(random() * i)}`;
        if (second !== parents[0]) parents.push(second);
      }
    }
    artifacts.push({
      id: `a${i}`,
      hash,
      space: spaces[i % spaces.length] ?? "midi",
      mediaType: "application/octet-stream",
      creator: `creator${i % 20}`,
      tags: [`tag${Math.floor(random() * 200)}`, `tag${Math.floor(random() * 200)}`, `phase:${i % 3}`],
      metadata: { n: i },
      createdAtMs: t0 + Math.floor((i / ARTIFACTS) * yearMs),
      ...(parents.length > 0
        ? { parents, tool: { kind: "sampler" as const, name: "bench", params: { i } } }
        : {}),
      ...(i % 50 === 0 && i > 0 ? { variationSetId: `vs${i % 1000}` } : {}),
    });
  }
  const insert = await time(async () => {
    for (let start = 0; start < artifacts.length; start += 5000) {
      await library.graph.addMany(artifacts.slice(start, start + 5000));
    }
  });
  record(
    group,
    "addMany in batches of 5,000",
    `${(insert.ms / 1000).toFixed(2)} s`,
    `${Math.round(ARTIFACTS / (insert.ms / 1000))} artifacts/s`,
  );

  const deepest = `a${chainLength - 1}`;
  const chain = await best(5, () => library.graph.ancestors(deepest));
  record(
    group,
    `ancestors of the end of a ${chainLength}-long chain`,
    `${chain.ms.toFixed(1)} ms`,
    `${chain.value.length} rows`,
  );
  const lineage = await best(5, () => library.graph.lineage(`a${ARTIFACTS - 1}`));
  record(
    group,
    "lineage (ancestors + their edges) of the newest artifact",
    `${lineage.ms.toFixed(2)} ms`,
    `${lineage.value.length} ancestors`,
  );
  for (const from of [`a${chainLength - 10}`, `a${chainLength + 5}`]) {
    const descendants = await best(3, () => library.graph.descendants(from));
    record(
      group,
      `descendants of ${from}`,
      `${descendants.ms.toFixed(1)} ms`,
      `${descendants.value.length} rows`,
    );
  }
  const byTag = await best(5, () => library.graph.find({ tags: ["tag7"], limit: 100 }));
  record(group, "tag query, newest 100 (tag7)", `${byTag.ms.toFixed(2)} ms`, `${byTag.value.length} rows`);
  const byTagAll = await best(5, () => library.graph.find({ tags: ["tag7"], limit: 10_000 }));
  record(
    group,
    "tag query, all matches (tag7)",
    `${byTagAll.ms.toFixed(1)} ms`,
    `${byTagAll.value.length} rows`,
  );
  const combined = await best(5, () =>
    library.graph.find({
      tags: ["tag7"],
      space: "midi",
      sinceMs: t0 + yearMs / 2,
      untilMs: t0 + yearMs,
      limit: 100,
    }),
  );
  record(group, "tag + space + time window", `${combined.ms.toFixed(2)} ms`, `${combined.value.length} rows`);
  const gets = await best(3, async () => {
    for (let i = 0; i < 1000; i++) await library.graph.get(`a${(i * 97) % ARTIFACTS}`);
  });
  record(group, "get by id, 1,000 in a row", `${(gets.ms / 1000).toFixed(3)} ms each`);
  const nested = await best(3, () =>
    runGraphQuery(
      library.graph,
      `{ artifacts(tag: "tag7", limit: 50) { id tags parents { id space } parentEdges { tool { name params } } } }`,
    ),
  );
  if (nested.value.errors !== undefined) throw new Error(nested.value.errors.join("; "));
  record(group, "GraphQL: 50 tagged artifacts with parents and edges", `${nested.ms.toFixed(1)} ms`);
  const gqlLineage = await best(3, () =>
    runGraphQuery(
      library.graph,
      `{ artifact(id: "a${ARTIFACTS - 1}") { lineage { depth artifact { id } } } }`,
    ),
  );
  record(group, "GraphQL: lineage of the newest artifact", `${gqlLineage.ms.toFixed(1)} ms`);

  // Peer: the origin system's persistence, the whole graph as one JSON file, loaded and filtered in memory.
  const jsonPath = join(work, "artifacts.json");
  await writeFile(jsonPath, JSON.stringify(artifacts));
  const jsonTag = await best(3, async () => {
    const all = JSON.parse(await readFile(jsonPath, "utf8")) as NewArtifact[];
    return all
      .filter((a) => a.tags?.includes("tag7"))
      .sort((a, b) => (b.createdAtMs ?? 0) - (a.createdAtMs ?? 0))
      .slice(0, 100);
  });
  record(
    group,
    "peer: load artifacts.json + filter by tag",
    `${jsonTag.ms.toFixed(1)} ms`,
    `${jsonTag.value.length} rows`,
  );
  const loaded = JSON.parse(await readFile(jsonPath, "utf8")) as NewArtifact[];
  const inMemoryTag = await best(5, () => loaded.filter((a) => a.tags?.includes("tag7")).length);
  record(
    group,
    "peer: filter by tag, already in memory (no I/O)",
    `${inMemoryTag.ms.toFixed(2)} ms`,
    `${inMemoryTag.value} rows`,
  );
  await library.close();
}

const loadAtStart = loadavg()[0] ?? 0;
const work = await mkdtemp(join(tmpdir(), "lc-bench-store-"));
try {
  await benchIngest(work);
  await benchGraph(work);
} finally {
  await rm(work, { recursive: true, force: true });
}

const cpu = cpus()[0]?.model ?? "unknown CPU";
const lines = [
  "# Store benchmark",
  "",
  `Command: \`node --import tsx bench/store/run.ts --file-mb ${FILE_MB} --artifacts ${ARTIFACTS}\``,
  "",
  `Machine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}; ` +
    `temp folder ${tmpdir()}. Date ${new Date().toISOString()}. The machine is shared with other jobs ` +
    `(1-minute load average ${loadAtStart.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end): times are the best of 3-5 runs.`,
  "",
  "Reading the numbers:",
  "",
  "- Hashing: BLAKE3 (`@napi-rs/blake-hash`) against Node's sha256 on the same bytes in the same run; the input file is in the page cache, so these are CPU rates.",
  "- `store.putFile` of new content is bounded by writing and fsyncing the copy to disk; content already stored costs one read + hash pass and no write.",
  "- Memory: `putFile` streams through a 1 MiB buffer, so its peak RSS growth stays near a constant whatever the file size; the non-streaming peer grows by the file size.",
  "- Small objects: each `put` fsyncs the file and its folder (durable when it returns), which bounds objects per second far below the hash rate.",
  "- Graph: 100k artifacts in `graph.sqlite` (node-sqlite3-wasm), ~10% with two parents, plus a 10,000-long chain; the JSON peer is the origin system's persistence (whole graph in one JSON file).",
  "",
  "| group | measurement | result | note |",
  "|---|---|---|---|",
  ...rows.map((row) => `| ${row.join(" | ")} |`),
  "",
];
const out = resolve(values.out);
await writeFile(out, lines.join("\n"));
process.stdout.write(`wrote ${out}\n`);
