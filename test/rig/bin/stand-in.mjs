/**
 * What the rig's stand-ins in binDir share (plain JavaScript, copied next to them by
 * node-bin.ts). Their sh wrappers set the environment; run without it, they say so.
 */
import path from 'node:path';

/** The value of an environment variable the wrapper sets; exit 2 if it is missing. */
export function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    const command = path.basename(process.argv[1] ?? 'stand-in', '.mjs');
    console.error(`${command}: ${name} is not set (run the ${command} installed in the rig's bin directory)`);
    process.exit(2);
  }
  return value;
}
