// The chat page served at `/`: one self-contained file (no CDN, nothing from
// outside the machine) that streams answers from /v1/chat/completions.
#ifndef QWENC_SERVER_PAGE_H
#define QWENC_SERVER_PAGE_H

namespace qwenc_rt::server {

inline const char kChatPage[] = R"QWENCPAGE(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>qwenc chat</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;display:flex;flex-direction:column;height:100vh;background:#f6f6f4;color:#222}
header{padding:.6em 1em;background:#2d3142;color:#fff;display:flex;gap:1em;align-items:center}
header h1{font-size:1.05em;margin:0;font-weight:600}#model{opacity:.8;font-size:.9em}
#stats{margin-left:auto;font-size:.85em;opacity:.9}
#log{flex:1;overflow-y:auto;padding:1em;display:flex;flex-direction:column;gap:.6em}
.msg{max-width:80%;padding:.6em .8em;border-radius:.6em;white-space:pre-wrap;word-wrap:break-word}
.user{align-self:flex-end;background:#4f5d75;color:#fff}.assistant{align-self:flex-start;background:#fff;border:1px solid #ddd}
.error{align-self:center;color:#a00}
form{display:flex;gap:.5em;padding:.8em;background:#fff;border-top:1px solid #ddd}
textarea{flex:1;resize:none;height:3.2em;font:inherit;padding:.4em}
button{font:inherit;padding:0 1.2em}details{padding:0 1em;font-size:.85em}
</style></head><body>
<header><h1>qwenc</h1><span id="model"></span><span id="stats"></span></header>
<details><summary>Settings</summary>
<label>System prompt <input id="system" size="60" placeholder="(the model's default)"></label>
<label>Temperature <input id="temp" type="number" step="0.1" min="0" max="2" placeholder="default"></label>
<label>Max tokens <input id="maxtok" type="number" min="1" value="512"></label>
<label>API key <input id="key" type="password" size="20"></label>
<button type="button" id="clear">New chat</button></details>
<div id="log"></div>
<form id="form"><textarea id="input" placeholder="Type a message; Enter sends, Shift+Enter is a new line"></textarea>
<button id="send" type="submit">Send</button><button id="stop" type="button" disabled>Stop</button></form>
<script>
const $ = id => document.getElementById(id);
let history = [], controller = null;
function add(role, text) {
  const d = document.createElement('div'); d.className = 'msg ' + role; d.textContent = text;
  $('log').appendChild(d); $('log').scrollTop = $('log').scrollHeight; return d;
}
function headers() {
  const h = {'Content-Type': 'application/json'};
  if ($('key').value) h['Authorization'] = 'Bearer ' + $('key').value;
  return h;
}
fetch('/v1/models', {headers: headers()}).then(r => r.json()).then(j => { $('model').textContent = j.data[0].id; }).catch(() => {});
async function send(text) {
  history.push({role: 'user', content: text});
  add('user', text);
  const out = add('assistant', '');
  out.dataset.state = 'streaming';
  $('send').disabled = true; $('stop').disabled = false;
  controller = new AbortController();
  const messages = ($('system').value ? [{role: 'system', content: $('system').value}] : []).concat(history);
  const body = {messages, stream: true, stream_options: {include_usage: true}, max_tokens: +$('maxtok').value || 512};
  if ($('temp').value !== '') body.temperature = +$('temp').value;
  const t0 = performance.now(); let first = 0, tokens = 0, answer = '';
  try {
    const r = await fetch('/v1/chat/completions', {method: 'POST', headers: headers(), body: JSON.stringify(body), signal: controller.signal});
    if (!r.ok) { const j = await r.json().catch(() => ({})); throw new Error((j.error && j.error.message) || r.statusText); }
    const reader = r.body.getReader(), dec = new TextDecoder(); let buf = '';
    for (;;) {
      const {value, done} = await reader.read(); if (done) break;
      buf += dec.decode(value, {stream: true});
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, i); buf = buf.slice(i + 2);
        if (!ev.startsWith('data: ')) continue;
        const data = ev.slice(6); if (data === '[DONE]') continue;
        const j = JSON.parse(data);
        if (j.usage) tokens = j.usage.completion_tokens;
        const c = j.choices && j.choices[0];
        if (c && c.delta && c.delta.content) {
          if (!first) first = performance.now();
          answer += c.delta.content; out.textContent = answer; $('log').scrollTop = $('log').scrollHeight;
        }
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') add('error', 'error: ' + e.message);
  }
  const t1 = performance.now();
  if (tokens > 1 && first) $('stats').textContent = tokens + ' tokens, ' + ((tokens - 1) * 1000 / (t1 - first)).toFixed(1) + ' tok/s, first token ' + ((first - t0) / 1000).toFixed(2) + ' s';
  history.push({role: 'assistant', content: answer});
  out.dataset.state = 'done';
  $('send').disabled = false; $('stop').disabled = true; controller = null;
}
$('form').onsubmit = e => { e.preventDefault(); const t = $('input').value.trim(); if (t && !controller) { $('input').value = ''; send(t); } };
$('input').onkeydown = e => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('form').requestSubmit(); } };
$('stop').onclick = () => controller && controller.abort();
$('clear').onclick = () => { history = []; $('log').innerHTML = ''; };
</script></body></html>
)QWENCPAGE";

} // namespace qwenc_rt::server
#endif
