// Starting a compiled model's server for a test, and plain HTTP against it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** Starts `exe --serve 127.0.0.1:0 ...args`; resolves when it prints its port. */
export function startServer(exe, args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(exe, ['--serve', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => reject(new Error('the server did not start: ' + err)), 30000);
    proc.stderr.on('data', (d) => {
      err += d;
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m && !proc.port) {
        proc.port = +m[1];
        clearTimeout(timer);
        resolve({ proc, port: proc.port, base: `http://127.0.0.1:${proc.port}`, stderr: () => err });
      }
    });
    proc.on('exit', (code) => reject(new Error(`the server exited (${code}): ${err}`)));
  });
}

/**
 * Stops the server with SIGTERM and resolves with its exit code (a signal's
 * name if it died of one). In a sanitized build a leak found at exit makes
 * it non-zero.
 */
export function stopServer(srv) {
  if (srv.proc.exitCode !== null || srv.proc.signalCode !== null)
    return Promise.resolve(srv.proc.exitCode ?? srv.proc.signalCode);
  return new Promise((resolve) => {
    srv.proc.once('exit', (code, signal) => resolve(code ?? signal));
    srv.proc.kill('SIGTERM');
  });
}

/** Checks that the server stops cleanly on SIGTERM (exit status 0). */
export async function checkStopsCleanly(srv) {
  const code = await stopServer(srv);
  check(code === 0, `the server stops cleanly on SIGTERM (exit ${code})`);
}

/** True when the server under test is built with AddressSanitizer (lit sets it). */
export const sanitized = !!process.env.QWENC_SANITIZED;

/** The OpenAI error shape of a raw HTTP answer's body: its message, or null. */
export function errorMessageOf(text) {
  try {
    const j = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    return typeof j.error.message === 'string' && typeof j.error.type === 'string' ? j.error.message : null;
  } catch {
    return null;
  }
}

/** Sends raw bytes on a fresh connection; resolves with what came back before close or timeout. */
export function raw(port, bytes, { timeoutMs = 5000, closeAfterWrite = false } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = Buffer.alloc(0);
    const done = () => { s.destroy(); resolve(out.toString('latin1')); };
    s.setTimeout(timeoutMs, done);
    s.on('data', (d) => { out = Buffer.concat([out, d]); });
    s.on('end', done);
    s.on('error', done);
    s.write(bytes, () => { if (closeAfterWrite) s.end(); });
  });
}

/** Status line's code of a raw HTTP answer. */
export const statusOf = (text) => +(/^HTTP\/1\.1 (\d+)/.exec(text) || [0, 0])[1];

export function check(cond, what) {
  if (!cond) throw new Error('FAILED: ' + what);
  console.log('ok: ' + what);
}

/** Resident set of a process, in KiB. */
export function rssKb(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return +/VmRSS:\s+(\d+)/.exec(s)[1];
}
