/**
 * Byte pipes between sockets of two network namespaces, without routing anything: a unix
 * socket is a file, so a process inside the rig's node namespace can listen on one that a
 * process in the root namespace connects to. The demo uses a pair per port: root-namespace
 * 127.0.0.1:<port> → unix socket → (forwarder in the node) → node-namespace 127.0.0.1:<port>.
 * No packet from the root namespace ever goes to a lab address.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';

export interface Pipe {
  server: net.Server;
  close(): Promise<void>;
}

/** Listens on `listen` (a TCP port on a host, or a unix socket path) and pipes every connection to `target`. */
export async function pipe(
  listen: { host: string; port: number } | { path: string },
  target: { host: string; port: number } | { path: string },
): Promise<Pipe> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    // either end failing ends both: the browser sees a reset, as with a dead server
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
