// Tokenizer speed: qwenc's runtime tokenizer (through test tool
// tokenizer-tool) against @lenml/tokenizers on the same input, in MB/s.
//   node bench/tokenizer.mjs [BUILD_DIR]
import { execFileSync } from "child_process";
import fs from "fs";
import path from "path";
import { buildCorpus } from "../test/tokenizer/corpus.mjs";
import { root, tokenizerSetup } from "../test/tokenizer/setup.mjs";

const buildDir = path.resolve(process.argv[2] ?? path.join(root, "build"));
const tool = path.join(buildDir, "bin", "tokenizer-tool");
const { dir, js, cleanup } = tokenizerSetup("qwenc-tokbench-");

// Inputs: the test corpus (one string a line), and 10 MB of its strings
// shuffled together, so that the word cache does not see only repeats.
const corpus = buildCorpus().map((s) => s.replace(/\n/g, " ") + "\n").join("");
const strings = buildCorpus().map((s) => s.replace(/\n/g, " "));
const parts = [];
let bytes = 0, seed = 7;
while (bytes < 10e6) {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  const piece = strings[seed % strings.length] + (seed % 3 ? " " : "\n");
  parts.push(piece);
  bytes += Buffer.byteLength(piece);
}
const big = parts.join("");
const inputs = { "corpus": corpus, "10 MB text": big };

function jsRate(text) {
  const lines = text.split(/(?<=\n)/);
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (const l of lines) n += js.encode(l, { add_special_tokens: false }).length;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { mbps: Buffer.byteLength(text) / 1e6 / s, tokens: n };
}
function qwencRate(text, file) {
  fs.writeFileSync(file, text);
  const runs = [0, 1, 2].map(() => JSON.parse(execFileSync(tool, [dir, "bench", file]).toString()));
  runs.sort((a, b) => a.mb_per_s - b.mb_per_s);
  return { mbps: runs[1].mb_per_s, tokens: runs[1].tokens };
}

console.log("| input | bytes | qwenc MB/s | @lenml/tokenizers MB/s | speed-up | same token count |");
console.log("|---|---|---|---|---|---|");
for (const [name, text] of Object.entries(inputs)) {
  const q = qwencRate(text, path.join(dir, "input.txt"));
  const j = jsRate(text);
  console.log(`| ${name} | ${Buffer.byteLength(text)} | ${q.mbps.toFixed(1)} | ${j.mbps.toFixed(2)} | ${(q.mbps / j.mbps).toFixed(1)}x | ${q.tokens === j.tokens} |`);
}
cleanup();
