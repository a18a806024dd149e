// The server against the official `openai` npm client: chat and completions,
// whole and streamed, usage, logprobs, stop strings, seeds, batching that
// gives every sequence the answer it gets alone, prefix reuse, cancellation,
// the API key. Usage: node client.mjs EXE
import OpenAI from 'openai';
import { check, checkStopsCleanly, startServer } from './lib.mjs';

const exe = process.argv[2];
const key = 'test-key-123';
const srv = await startServer(exe, ['--parallel', '4', '--ctx', '512', '--api-key', key, '-t', '2']);
const client = new OpenAI({ baseURL: srv.base + '/v1', apiKey: key, maxRetries: 0 });
const metrics = async () => {
  const text = await (await fetch(srv.base + '/metrics', { headers: { Authorization: 'Bearer ' + key } })).text();
  const m = {};
  for (const line of text.split('\n'))
    if (line && !line.startsWith('#')) m[line.split(' ')[0]] = +line.split(' ')[1];
  return m;
};
try {
  const models = await client.models.list();
  check(models.data.length === 1 && models.data[0].id === 'tiny', 'models.list names the model');

  const chat = await client.chat.completions.create({
    model: 'tiny', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 8, temperature: 0,
  });
  const c0 = chat.choices[0];
  check(chat.object === 'chat.completion' && c0.message.role === 'assistant', 'chat completion shape');
  check(chat.usage.completion_tokens === 8 && c0.finish_reason === 'length', 'max_tokens ends with finish_reason length');
  // "Hello there" in Qwen2.5's template with the default system prompt.
  check(chat.usage.prompt_tokens === 31 && chat.usage.total_tokens === 39, 'usage counts the templated prompt');

  // Streamed: the same greedy text, in pieces, then usage.
  const stream = await client.chat.completions.create({
    model: 'tiny', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 8, temperature: 0, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '', finish = null, usage = null, pieces = 0;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const ch = chunk.choices[0];
    if (!ch) continue;
    if (ch.delta.content) { text += ch.delta.content; ++pieces; }
    if (ch.finish_reason) finish = ch.finish_reason;
  }
  check(text === c0.message.content && pieces > 1, 'a stream carries the same text as the whole answer');
  check(finish === 'length' && usage && usage.completion_tokens === 8, 'the stream ends with finish_reason and usage');
  check(usage.prompt_tokens_details.cached_tokens >= 30, 'the same prompt again reuses the slot\'s cache');

  // Completions: raw text, no template; legacy logprobs.
  const cmpl = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 6, temperature: 0, logprobs: 2 });
  check(cmpl.object === 'text_completion' && cmpl.usage.prompt_tokens === 4, 'completions take raw text');
  const lp = cmpl.choices[0].logprobs;
  check(lp.tokens.length === 6 && lp.token_logprobs.every((x) => x <= 0) && Object.keys(lp.top_logprobs[0]).length >= 1,
    'completions logprobs: a logprob per token and the top alternatives');
  // Chat logprobs: greedy picks the most likely token.
  const clp = await client.chat.completions.create({
    model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 3,
  });
  const entries = clp.choices[0].logprobs.content;
  check(entries.length === 4 && entries.every((e) => e.top_logprobs.length === 3 && e.logprob === e.top_logprobs[0].logprob),
    'chat logprobs: greedy chose each step\'s most likely token');

  // Stop strings: cut where the greedy text has one, finish_reason stop.
  const long = await client.completions.create({ model: 'tiny', prompt: 'The weather', max_tokens: 24, temperature: 0 });
  const full = long.choices[0].text;
  const stopAt = full.slice(Math.floor(full.length / 2), Math.floor(full.length / 2) + 3);
  const cut = await client.completions.create({ model: 'tiny', prompt: 'The weather', max_tokens: 24, temperature: 0, stop: [stopAt, 'zzzzqqqq'] });
  check(cut.choices[0].text === full.slice(0, full.indexOf(stopAt)) && cut.choices[0].finish_reason === 'stop',
    `a stop string ends the answer before it ('${stopAt}')`);

  // Seeds: the same seed samples the same text; another seed another.
  const sample = (seed) => client.completions.create({ model: 'tiny', prompt: 'Seeds', max_tokens: 16, temperature: 1, top_p: 1, top_k: 0, seed });
  const [s1, s2, s3] = [await sample(7), await sample(7), await sample(8)];
  check(s1.choices[0].text === s2.choices[0].text && s1.choices[0].text !== s3.choices[0].text, 'seed makes sampling repeatable');

  // Batching: four prompts at once get the answers they get one at a time.
  const prompts = ['Alpha beta', 'One two three four five', 'Q', 'The quick brown fox jumps'];
  const one = (p) => client.completions.create({ model: 'tiny', prompt: p, max_tokens: 16, temperature: 0 }).then((r) => r.choices[0].text);
  const alone = [];
  for (const p of prompts) alone.push(await one(p));
  const before = await metrics();
  const together = await Promise.all(prompts.map(one));
  const after = await metrics();
  check(together.every((t, i) => t === alone[i]), 'concurrent requests answer as they do alone');
  const rows = after.qwenc_decode_rows_total - before.qwenc_decode_rows_total;
  const steps = after.qwenc_decode_steps_total - before.qwenc_decode_steps_total;
  check(steps < rows, `decode steps carried several sequences (${rows} rows in ${steps} steps)`);

  // A chat going on: the next request starts with the previous one's prompt and answer.
  const turn1 = [{ role: 'user', content: 'Tell me a story' }];
  const a1 = await client.chat.completions.create({ model: 'tiny', messages: turn1, max_tokens: 10, temperature: 0 });
  const turn2 = [...turn1, { role: 'assistant', content: a1.choices[0].message.content }, { role: 'user', content: 'More' }];
  const a2 = await client.chat.completions.create({ model: 'tiny', messages: turn2, max_tokens: 4, temperature: 0 });
  check(a2.usage.prompt_tokens_details.cached_tokens >= a1.usage.prompt_tokens,
    `a continuing chat reuses its cached prefix (${a2.usage.prompt_tokens_details.cached_tokens} of ${a2.usage.prompt_tokens})`);

  // A client that leaves mid-stream: the generation stops.
  const m0 = await metrics();
  const ac = new AbortController();
  const st = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Go on' }], max_tokens: 400, stream: true }, { signal: ac.signal });
  try { for await (const _ of st) { ac.abort(); } } catch (e) { /* aborted */ }
  let m1;
  for (let i = 0; i < 50; ++i) {
    m1 = await metrics();
    if (m1.qwenc_requests_cancelled_total > m0.qwenc_requests_cancelled_total) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  check(m1.qwenc_requests_cancelled_total === m0.qwenc_requests_cancelled_total + 1 && m1.qwenc_requests_active === 0,
    'a client that hangs up has its request cancelled');
  // The same for a whole (not streamed) answer, while its tokens keep coming.
  const ac2 = new AbortController();
  const whole = client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Go on and on' }],
    max_tokens: 450, ignore_eos: true }, { signal: ac2.signal }).catch(() => null);
  await new Promise((r) => setTimeout(r, 60));
  ac2.abort();
  await whole;
  for (let i = 0; i < 50; ++i) {
    m1 = await metrics();
    if (m1.qwenc_requests_cancelled_total > m0.qwenc_requests_cancelled_total + 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  check(m1.qwenc_requests_cancelled_total === m0.qwenc_requests_cancelled_total + 2 && m1.qwenc_generation_tokens_total < m0.qwenc_generation_tokens_total + 400 + 450,
    'a client that hangs up before a whole answer has its request cancelled');

  // Errors in OpenAI's shape, as the client raises them.
  const status = async (p) => { try { await p; return 200; } catch (e) { return e.status; } };
  check(await status(client.chat.completions.create({ model: 'tiny', messages: [], max_tokens: 4 })) === 400, 'empty messages: 400');
  check(await status(client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], temperature: 5 })) === 400, 'temperature out of range: 400');
  check(await status(client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], max_tokens: 999999 })) === 400, 'max_tokens past the limit: 400');
  const noKey = new OpenAI({ baseURL: srv.base + '/v1', apiKey: 'wrong', maxRetries: 0 });
  check(await status(noKey.models.list()) === 401, 'a wrong API key: 401');
  const bad = await fetch(srv.base + '/v1/chat/completions', { method: 'POST', headers: { Authorization: 'Bearer ' + key }, body: '{"messages": [{"role": "user", "content": 3}]}' });
  const badBody = await bad.json();
  check(bad.status === 400 && badBody.error.type === 'invalid_request_error' && badBody.error.param === 'messages', 'an error names the field');
  await checkStopsCleanly(srv);
  console.log('client tests passed');
} finally {
  srv.proc.kill('SIGTERM');
}
