/**
 * A steady HTTP load for benchmarks, run inside a container's network namespace:
 *   node load.mjs <url> <host header> <concurrency> <max seconds> [stop file]
 * It stops at the time limit or as soon as the stop file exists (the benchmark creates it).
 * Keep-alive connections (as browsers and other proxies use them), one request at a time
 * per connection. Prints one JSON line: requests, ok (2xx), failed (non-2xx or network
 * error), the errors by kind, and requests per second. Plain JavaScript, no dependencies.
 */
import http from 'node:http';

import { existsSync } from 'node:fs';

const [url, host, concurrencyText, secondsText, stopFile] = process.argv.slice(2);
const concurrency = Number(concurrencyText ?? 20);
const seconds = Number(secondsText ?? 10);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const counts = { requests: 0, ok: 0, failed: 0, errors: {} };
const deadline = Date.now() + seconds * 1000;

function once() {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { host }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => {
        counts.requests++;
        if (res.statusCode >= 200 && res.statusCode < 300) counts.ok++;
        else {
          counts.failed++;
          counts.errors[`http ${res.statusCode}`] = (counts.errors[`http ${res.statusCode}`] ?? 0) + 1;
        }
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => {
      counts.requests++;
      counts.failed++;
      const kind = error.code ?? error.message;
      counts.errors[kind] = (counts.errors[kind] ?? 0) + 1;
      resolve();
    });
  });
}

let stopped = false;
const watcher = setInterval(() => {
  if (stopFile && existsSync(stopFile)) stopped = true;
}, 50);

async function worker() {
  while (!stopped && Date.now() < deadline) await once();
}

const started = Date.now();
await Promise.all(Array.from({ length: concurrency }, worker));
clearInterval(watcher);
agent.destroy();
const elapsed = (Date.now() - started) / 1000;
console.log(
  JSON.stringify({ ...counts, seconds: elapsed, perSecond: Math.round(counts.requests / elapsed) }),
);
