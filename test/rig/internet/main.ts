/**
 * The rig's internet server process (started by Rig.up in the root namespace, detached and
 * recorded like the rig's other daemons):
 *
 *   node --import tsx test/rig/internet/main.ts --dir <rig>/internet --cache <dir> --cert F --key F
 *
 * Listens on `<dir>/http.sock` (plain HTTP) and `<dir>/https.sock` (TLS with the rig CA's
 * leaf), never on TCP; logs one line per request on stdout. SIGTERM/SIGINT close both
 * sockets and remove their files; so does the removal of `<dir>` (the rig went down without us).
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { processStartTime } from '../processes.js';
import { internetFiles } from './internet.js';
import { internetHandler } from './server.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    cache: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
  },
});
if (!values.dir || !values.cache || !values.cert || !values.key) {
  console.error('usage: main.ts --dir DIR --cache DIR --cert FILE --key FILE');
  process.exit(2);
}
const files = internetFiles(values.dir);
// Found by `rig down` even if whoever started us died before recording us; throws (and we
// exit) if the rig's directory is already gone.
writeFileSync(`${files.pidFile}.tmp`, `${process.pid} ${processStartTime(process.pid)}\n`);
renameSync(`${files.pidFile}.tmp`, files.pidFile);
// A server whose rig is gone has nothing to serve: it ends itself.
setInterval(() => {
  if (!existsSync(files.dir)) process.exit(0);
}, 2000).unref();
const handle = internetHandler({
  cacheRoot: values.cache,
  staticDir: files.staticDir,
  log: (line) => process.stdout.write(`${line}\n`),
});
const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => void handle(req, res);
const servers = [
  { server: http.createServer(onRequest), path: files.httpSocket },
  {
    server: https.createServer({ cert: readFileSync(values.cert), key: readFileSync(values.key) }, onRequest),
    path: files.httpsSocket,
  },
];
for (const { server, path } of servers) {
  rmSync(path, { force: true }); // a stale socket of a killed run
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
}
process.stdout.write(
  `${new Date().toISOString()} listening on ${servers.map((s) => s.path).join(' and ')}\n`,
);

const stop = () => {
  for (const { server } of servers) {
    server.close();
    server.closeAllConnections();
  }
  process.exit(0); // node removes the socket files as the servers close
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
