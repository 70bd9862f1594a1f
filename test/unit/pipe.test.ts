import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseEndpoint, pipe } from '../rig/pipe.js';

const dir = mkdtempSync(path.join(tmpdir(), 'forward-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A server on a free loopback port that answers what it gets in upper case. */
async function upperServer(): Promise<net.Server> {
  const server = net.createServer((socket) =>
    socket.on('data', (data) => socket.write(data.toString().toUpperCase())),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Sends `text`, resolves with the first answer, or '' if the connection closes without one. */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(text));
    socket.on('data', (data) => {
      resolve(data.toString());
      socket.end();
    });
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(''));
  });
}

const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

describe("the rig's pipes (TCP -> unix socket -> TCP)", () => {
  it('carries bytes both ways through a unix socket, and closes cleanly', async () => {
    const target = await upperServer();
    const socketPath = path.join(dir, 'a.sock');
    const nodeSide = await pipe({ path: socketPath }, { host: '127.0.0.1', port: portOf(target) });
    const rootSide = await pipe({ host: '127.0.0.1', port: 0 }, { path: socketPath });
    const port = portOf(rootSide.server);
    assert.deepEqual(await Promise.all([roundTrip(port, 'hello'), roundTrip(port, 'world')]), [
      'HELLO',
      'WORLD',
    ]);
    await rootSide.close();
    await nodeSide.close();
    target.close();
    assert.equal(existsSync(socketPath), false, 'the socket file is gone');
  });

  it('replaces a stale socket file, and closes the client when the target is down', async () => {
    const target = await upperServer();
    const socketPath = path.join(dir, 'b.sock');
    const stale = await pipe({ path: socketPath }, { host: '127.0.0.1', port: portOf(target) });
    const nodeSide = await pipe({ path: socketPath }, { host: '127.0.0.1', port: portOf(target) });
    const rootSide = await pipe({ host: '127.0.0.1', port: 0 }, { path: socketPath });
    assert.equal(await roundTrip(portOf(rootSide.server), 'up'), 'UP');
    await new Promise<void>((resolve) => target.close(() => resolve()));
    assert.equal(await roundTrip(portOf(rootSide.server), 'down'), '');
    await rootSide.close();
    await nodeSide.close();
    await stale.close();
  });
});

describe("the forwarder's endpoints", () => {
  it('reads a socket path, HOST:PORT and a bare PORT, and refuses anything else', () => {
    assert.deepEqual(parseEndpoint('/run/a.sock'), { path: '/run/a.sock' });
    assert.deepEqual(parseEndpoint('198.51.100.10:443'), { host: '198.51.100.10', port: 443 });
    assert.deepEqual(parseEndpoint('8006'), { host: '127.0.0.1', port: 8006 });
    for (const bad of ['', 'a.sock', 'host:80', '1.2.3.4:0', '70000', '1.2.3.4:'])
      assert.throws(() => parseEndpoint(bad), /not a socket path/);
  });
});
