// Aggregate decode throughput of a compiled model's server with 1, 2, 4, 8
// concurrent streams, and time to first token under that load.
// Usage: node bench/serve.mjs EXE [--streams 1,2,4,8] [--tokens 128] [--rounds 3] [--threads 2]
import { startServer } from '../test/server/lib.mjs';

const args = process.argv.slice(2);
const exe = args[0];
const opt = (name, def) => { const i = args.indexOf(name); return i > 0 ? args[i + 1] : def; };
const streams = opt('--streams', '1,2,4,8').split(',').map(Number);
const tokens = +opt('--tokens', '128'), rounds = +opt('--rounds', '3'), threads = opt('--threads', '2');
const most = Math.max(...streams);
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

try {
  await one(0, performance.now()); // warm up
  const rows = {};
  for (let round = 0; round < rounds; ++round)
    for (const s of streams) { // interleaved: every stream count in each round
      const t0 = performance.now();
      const res = await Promise.all(Array.from({ length: s }, (_, i) => one(i, t0)));
      const total = res.reduce((a, r) => a + r.tokens, 0);
      const secs = (Math.max(...res.map((r) => r.end)) - t0) / 1000;
      (rows[s] ??= []).push({ tps: total / secs, ttft: median(res.map((r) => r.ttft)) / 1000 });
    }
  const base = median(rows[streams[0]].map((r) => r.tps));
  console.log(`| streams | aggregate tok/s (range) | per stream tok/s | vs ${streams[0]} stream(s) | median time to first token s |`);
  console.log('|---|---|---|---|---|');
  for (const s of streams) {
    const tps = rows[s].map((r) => r.tps);
    const m = median(tps);
    console.log(`| ${s} | ${m.toFixed(1)} (${Math.min(...tps).toFixed(1)}–${Math.max(...tps).toFixed(1)}) | ${(m / s).toFixed(1)} | ${(m / base).toFixed(2)}× | ${median(rows[s].map((r) => r.ttft)).toFixed(3)} |`);
  }
} finally {
  srv.proc.kill('SIGTERM');
}
