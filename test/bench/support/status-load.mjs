/**
 * A read load on the API for benchmarks, in a process of its own (the service under test
 * runs in the benchmark's process: the load must not share its event loop):
 *   node status-load.mjs <base url> <authorization> <clients> <seconds> <path,path,...> [timeout ms]
 * Each client sends one request at a time on its own keep-alive connection, taking the
 * paths in turn, with no pause (the open tabs of many users, at their worst). A request
 * that gets no answer within the timeout (10 s, as the clients gave up) counts as
 * an error. Prints one JSON line: per path and in total, requests, errors by kind, req/s,
 * p50/p95/p99 in ms. Plain JavaScript, no dependencies.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [base, authorization, clientsText, secondsText, pathsText, timeoutText] = process.argv.slice(2);
const clients = Number(clientsText ?? 30);
const seconds = Number(secondsText ?? 60);
const paths = (pathsText ?? '/status').split(',');
const timeoutMs = Number(timeoutText ?? 10_000);
const url = new URL(base);
const byPath = Object.fromEntries(paths.map((p) => [p, { latencies: [], errors: {} }]));

function once(agent, path) {
  const started = performance.now();
  const stats = byPath[path];
  const fail = (kind) => {
    stats.latencies.push(performance.now() - started);
    stats.errors[kind] = (stats.errors[kind] ?? 0) + 1;
  };
  return new Promise((resolve) => {
    const req = http.get(
      { host: url.hostname, port: url.port, path, agent, headers: { authorization }, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode >= 200 && res.statusCode < 300)
            stats.latencies.push(performance.now() - started);
          else fail(`http ${res.statusCode}`);
          resolve();
        });
        res.on('error', () => {
          fail('aborted');
          resolve();
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => {
      fail(error.message === 'timeout' ? `no answer in ${timeoutMs} ms` : (error.code ?? error.message));
      resolve();
    });
  });
}

const deadline = Date.now() + seconds * 1000;
async function client(index) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let turn = index; Date.now() < deadline; turn++) await once(agent, paths[turn % paths.length]);
  agent.destroy();
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
function summary(latencies, errors, elapsed) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  return {
    requests: sorted.length,
    errors: failed,
    errorKinds: errors,
    perSecond: Number((sorted.length / elapsed).toFixed(1)),
    p50: Number(percentile(sorted, 0.5).toFixed(1)),
    p95: Number(percentile(sorted, 0.95).toFixed(1)),
    p99: Number(percentile(sorted, 0.99).toFixed(1)),
  };
}

const started = Date.now();
await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
const elapsed = (Date.now() - started) / 1000;
const all = { latencies: [], errors: {} };
const paths_ = {};
for (const [path, stats] of Object.entries(byPath)) {
  paths_[path] = summary(stats.latencies, stats.errors, elapsed);
  all.latencies.push(...stats.latencies);
  for (const [kind, n] of Object.entries(stats.errors)) all.errors[kind] = (all.errors[kind] ?? 0) + n;
}
console.log(
  JSON.stringify({ seconds: elapsed, total: summary(all.latencies, all.errors, elapsed), paths: paths_ }),
);
