/**
 * Byte pipes between sockets of two network namespaces, without routing anything: a unix
 * socket is a file, so a process inside a rig namespace can listen on one that a process in
 * the root namespace connects to, or the other way round. Used by the demo (root-namespace
 * 127.0.0.1:<port> → unix socket → forwarder in the node → node-namespace 127.0.0.1:<port>)
 * and by the rig's internet (WAN-namespace 198.51.100.10:80/443 → forwarder in the WAN →
 * unix socket → the caching server in the root namespace). No packet from the root
 * namespace ever goes to a lab address.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';

export type Endpoint = { host: string; port: number } | { path: string };

export interface Pipe {
  server: net.Server;
  close(): Promise<void>;
}

/**
 * An endpoint as the forwarder's command line writes it: `/a/unix.sock`, `HOST:PORT`, or
 * a bare `PORT` (127.0.0.1).
 */
export function parseEndpoint(text: string): Endpoint {
  if (text.startsWith('/')) return { path: text };
  const match = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw new Error(`not a socket path, HOST:PORT or PORT: '${text}'`);
  return { host: match[1] ?? '127.0.0.1', port };
}

/** Listens on `listen` (a TCP port on a host, or a unix socket path) and pipes every connection to `target`. */
export async function pipe(listen: Endpoint, target: Endpoint): Promise<Pipe> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    // either end failing ends both: the client sees a reset, as with a dead server
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  if ('path' in listen) rmSync(listen.path, { force: true }); // a stale socket of a killed run
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
