/**
 * The node side of the demo's pipes (forward.ts), run inside the rig's node namespace:
 *
 *   node --import tsx test/ui/forwarder.ts SOCKET=PORT [SOCKET=PORT ...]
 *
 * listens on each unix socket and connects every client to 127.0.0.1:PORT in the node.
 * Prints `FORWARDING` when all listen; SIGTERM/SIGINT close them and remove the sockets.
 */
import { pipe } from './forward.js';

const pairs = process.argv.slice(2).map((arg) => {
  const match = /^(\/.+)=(\d+)$/.exec(arg);
  if (!match) {
    console.error(`want SOCKET=PORT, got '${arg}'`);
    process.exit(2);
  }
  return { path: match[1]!, port: Number(match[2]) };
});
const pipes = await Promise.all(
  pairs.map((p) => pipe({ path: p.path }, { host: '127.0.0.1', port: p.port })),
);
console.log('FORWARDING');
const stop = () => void Promise.all(pipes.map((p) => p.close())).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
