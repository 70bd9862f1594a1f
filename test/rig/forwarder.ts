/**
 * The namespace side of the rig's pipes (pipe.ts), run inside a rig namespace:
 *
 *   node --import tsx test/rig/forwarder.ts LISTEN=TARGET [LISTEN=TARGET ...]
 *
 * Each end is a unix socket path, `HOST:PORT` or a bare `PORT` (127.0.0.1): the demo runs
 * it in the node with `SOCKET=PORT` (unix socket → the node's 127.0.0.1:PORT), the rig's
 * internet in the WAN with `198.51.100.10:443=SOCKET` (a WAN listener → the host's server).
 * Prints `FORWARDING` when all listen; SIGTERM/SIGINT close them and remove the sockets.
 */
import { parseEndpoint, pipe } from './pipe.js';

const pairs = process.argv.slice(2).map((arg) => {
  const at = arg.indexOf('=');
  try {
    if (at < 0) throw new Error('no =');
    return { listen: parseEndpoint(arg.slice(0, at)), target: parseEndpoint(arg.slice(at + 1)) };
  } catch (error) {
    console.error(`want LISTEN=TARGET, got '${arg}': ${(error as Error).message}`);
    process.exit(2);
  }
});
const pipes = await Promise.all(pairs.map((p) => pipe(p.listen, p.target)));
console.log('FORWARDING');
const stop = () => void Promise.all(pipes.map((p) => p.close())).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
