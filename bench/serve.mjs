// Aggregate decode throughput of a compiled model's server with 1, 2, 4, 8
// concurrent streams, and time to first token under that load; with
// --llama GGUF, llama.cpp's batched decode of as many sequences of one
// context (node-llama-cpp, from bench/long's install) in the same rounds,
// interleaved.
// Usage: node bench/serve.mjs EXE [--llama GGUF] [--streams 1,2,4,8] [--tokens 128] [--rounds 3] [--threads 2]
import { createRequire } from 'node:module';
import { startServer } from '../test/server/lib.mjs';

const args = process.argv.slice(2);
const exe = args[0];
const opt = (name, def) => { const i = args.indexOf(name); return i > 0 ? args[i + 1] : def; };
const streams = opt('--streams', '1,2,4,8').split(',').map(Number);
const tokens = +opt('--tokens', '128'), rounds = +opt('--rounds', '3'), threads = opt('--threads', '2');
const most = Math.max(...streams);
const gguf = opt('--llama', '');
const srv = await startServer(exe, ['--parallel', String(most), '--ctx', '1024', '-t', threads]);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };

/** One streamed request; resolves with its first-token and end times. */
async function one(i, t0) {
  const r = await fetch(srv.base + '/v1/chat/completions', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: `Request ${i}: write about the sea.` }], max_tokens: tokens,
      ignore_eos: true, stream: true, stream_options: { include_usage: true }, seed: i }),
  });
  const reader = r.body.getReader();
  let first = 0, n = 0, buf = '';
  const dec = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (!first) first = performance.now();
    buf += dec.decode(value, { stream: true });
  }
  for (const m of buf.matchAll(/"completion_tokens":(\d+)/g)) n = +m[1];
  return { ttft: first - t0, end: performance.now(), tokens: n };
}

// llama.cpp: one context of `most` sequences; S of them decode at once
// (node-llama-cpp batches concurrent sequences into one llama_decode).
let llama = null;
if (gguf) {
  const require = createRequire(new URL('../build/bench/long/node/', import.meta.url));
  const { getLlama, LlamaLogLevel } = await import(require.resolve('node-llama-cpp'));
  const lib = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const model = await lib.loadModel({ modelPath: gguf });
  const context = await model.createContext({ contextSize: most * (tokens + 64), sequences: most, threads: +threads, batchSize: 512 });
  const seqs = Array.from({ length: most }, () => context.getSequence());
  llama = async (s) => {
    const t0 = performance.now();
    const res = await Promise.all(seqs.slice(0, s).map(async (seq, i) => {
      await seq.clearHistory();
      const prompt = model.tokenize(`Request ${i}: write about the sea. `.repeat(3));
      let n = 0, first = 0;
      for await (const _ of seq.evaluate(prompt, { temperature: 0 })) {
        if (!first) first = performance.now();
        if (++n >= tokens) break;
      }
      return { ttft: first - t0, end: performance.now(), tokens: n };
    }));
    return res;
  };
}

const measure = async (rows, s, run) => {
  const t0 = performance.now();
  const res = await run(t0);
  const total = res.reduce((a, r) => a + r.tokens, 0);
  const secs = (Math.max(...res.map((r) => r.end)) - t0) / 1000;
  (rows[s] ??= []).push({ tps: total / secs, ttft: median(res.map((r) => r.ttft)) / 1000 });
};
try {
  await one(0, performance.now()); // warm up
  if (llama) await llama(1);
  const rows = {}, lrows = {};
  for (let round = 0; round < rounds; ++round)
    for (const s of streams) { // interleaved: every stream count, both engines, in each round
      await measure(rows, s, (t0) => Promise.all(Array.from({ length: s }, (_, i) => one(i, t0))));
      if (llama) await measure(lrows, s, () => llama(s));
    }
  const range = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  const base = median(rows[streams[0]].map((r) => r.tps));
  const lbase = llama ? median(lrows[streams[0]].map((r) => r.tps)) : 0;
  console.log(`| streams | qwenc aggregate tok/s (range) | per stream | vs ${streams[0]} | qwenc median time to first token s` +
    (llama ? ' | llama.cpp aggregate tok/s (range) | vs ' + streams[0] + ' | qwenc / llama.cpp |' : ' |'));
  console.log('|---|---|---|---|---|' + (llama ? '---|---|---|' : ''));
  for (const s of streams) {
    const tps = rows[s].map((r) => r.tps), m = median(tps);
    let line = `| ${s} | ${range(tps)} | ${(m / s).toFixed(1)} | ${(m / base).toFixed(2)}× | ${median(rows[s].map((r) => r.ttft)).toFixed(3)} |`;
    if (llama) {
      const l = lrows[s].map((r) => r.tps);
      line += ` ${range(l)} | ${(median(l) / lbase).toFixed(2)}× | ${(m / median(l)).toFixed(2)}× |`;
    }
    console.log(line);
  }
} finally {
  srv.proc.kill('SIGTERM');
  process.exit(0);
}
