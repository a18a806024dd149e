// llama.cpp (through node-llama-cpp) at a given depth: evaluates a prompt of
// ids, then greedy-decodes; prints one JSON line with the prefill and decode
// rates, for bench/long to put beside qwenc's.
//
//   node bench/llamacpp-depth.mjs MODEL.gguf PROMPT_IDS(comma, or @FILE) N_NEW THREADS
//
// The context holds exactly the prompt and the new tokens (llama.cpp's KV
// cache is f16, the bytes per value of qwenc's default bf16 cache). Prefill =
// prompt tokens / time to the first new token; decode = the tokens after the
// first / their time.
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, idsArg, nNewArg, threadsArg] = process.argv.slice(2);
if (!modelPath || !idsArg || !nNewArg) {
  console.error("usage: node llamacpp-depth.mjs MODEL.gguf PROMPT_IDS N_NEW [THREADS]");
  process.exit(2);
}
// @FILE: an argument holds at most 128 KiB, about 20K ids.
const idsText = idsArg.startsWith("@") ? readFileSync(idsArg.slice(1), "utf8") : idsArg;
const prompt = idsText.split(/[\s,]+/).filter((s) => s.length > 0).map(Number);
const nNew = Number(nNewArg);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({
  contextSize: prompt.length + nNew + 16, threads: Number(threadsArg || 2), batchSize: 512});
const sequence = context.getSequence();
const generated = [];
const start = performance.now();
let first = 0;
for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
  generated.push(token);
  if (generated.length === 1) first = performance.now();
  if (generated.length >= nNew) break;
}
const end = performance.now();
console.log(JSON.stringify({
  prompt_tokens: prompt.length, generated: generated.length,
  prefill_tps: prompt.length / (first - start) * 1000,
  decode_tps: (generated.length - 1) / (end - first) * 1000}));
await context.dispose();
await model.dispose();
