// The chat page at / in a real browser (headless Chromium through
// puppeteer-core): type a message, wait for the streamed answer, check the
// conversation, the tok/s line and the stop button; a screenshot goes to
// OUT.png. Usage: node page.mjs EXE OUT.png
import puppeteer from 'puppeteer-core';
import { check, checkStopsCleanly, startServer } from './lib.mjs';

const [exe, shot] = process.argv.slice(2);
const srv = await startServer(exe, ['--parallel', '2', '--ctx', '1024', '-t', '2']);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(srv.base + '/', { waitUntil: 'networkidle0' });
  check(await page.$eval('#model', (e) => e.textContent) === 'tiny', 'the page names the model (from /v1/models)');
  await page.$eval('#maxtok', (e) => { e.value = '24'; });
  await page.type('#input', 'Hello from the browser');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => { const a = document.querySelectorAll('.assistant'); return a.length === 1 && a[0].dataset.state === 'done'; }, { timeout: 30000 });
  const first = await page.$$eval('.msg', (ms) => ms.map((m) => [m.className, m.textContent]));
  check(first.length === 2 && first[0][1] === 'Hello from the browser' && first[1][1].length > 0, 'a message and its streamed answer');
  check(/tokens, [\d.]+ tok\/s/.test(await page.$eval('#stats', (e) => e.textContent)), 'the page shows tok/s');
  // A second turn keeps the conversation; then an answer stopped midway.
  await page.type('#input', 'And again');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => [...document.querySelectorAll('.assistant')].every((a) => a.dataset.state === 'done') && document.querySelectorAll('.assistant').length === 2, { timeout: 30000 });
  check((await page.$$('.msg')).length === 4, 'the conversation goes on (4 messages)');
  await page.$eval('#maxtok', (e) => { e.value = '1000'; });
  await page.type('#input', 'A long one');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => { const a = document.querySelectorAll('.assistant'); return a.length === 3 && a[2].textContent.length > 0; }, { timeout: 30000 });
  await page.click('#stop');
  await page.waitForFunction(() => document.querySelectorAll('.assistant')[2].dataset.state === 'done', { timeout: 10000 });
  check(!(await page.$eval('#send', (e) => e.disabled)), 'the stop button ends an answer and the page takes the next message');
  check(requests.every((u) => u.startsWith(srv.base)), 'the page loads nothing from outside the server');
  await page.screenshot({ path: shot, fullPage: true });
  await checkStopsCleanly(srv);
  console.log('page tests passed');
} finally {
  await browser.close();
  srv.proc.kill('SIGTERM');
}
