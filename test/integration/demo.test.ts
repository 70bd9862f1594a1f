/**
 * Ctrl-C takes the demo down, all of it. A terminal runs `npm start` as its own foreground
 * process group and delivers SIGINT to every process in it (npm, the demo, whatever they are
 * running at that moment); the demo's teardown must finish even so.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, it } from 'node:test';
import { SIMULATOR_PORT } from '../rig/contracts.js';
import { Rig } from '../rig/rig.js';
import { BACKEND_PORT } from '../ui/harness.js';
import { repositoryRoot } from '../support/service.js';

const RIG_NAME = 'proxdemo';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('npm start', () => {
  it(
    'prints UI:, and Ctrl-C to its process group leaves nothing of the rig',
    { timeout: 600_000 },
    async () => {
      const child = spawn('npm', ['start'], {
        cwd: repositoryRoot,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (data: Buffer) => (output += data.toString()));
      child.stderr.on('data', (data: Buffer) => (output += data.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const ready = await Promise.race([
        new Promise<boolean>((resolve) => {
          const check = () => (/^UI: /m.test(output) ? resolve(true) : setTimeout(check, 100));
          check();
        }),
        exited.then(() => false),
      ]);
      assert.ok(ready, `npm start ended before UI:\n${output}`);
      const before = await Rig.status(RIG_NAME);
      assert.ok(before.namespaces.length > 0 && before.processes.some((p) => p.alive), 'the demo rig runs');
      assert.ok(await listening(SIMULATOR_PORT), 'the UI listens');

      process.kill(-child.pid!, 'SIGINT'); // what the terminal does on Ctrl-C
      const code = await exited;
      // npm may exit before the demo: wait until the whole group is gone.
      const deadline = Date.now() + 120_000;
      while (groupAlive(child.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.equal(groupAlive(child.pid!), false, 'a process of the demo group is left');
      assert.equal(code, 0, output);

      const after = await Rig.status(RIG_NAME);
      assert.deepEqual(after.namespaces, [], output);
      assert.deepEqual(after.containers, [], output);
      assert.deepEqual(
        after.processes.filter((p) => p.alive),
        [],
        output,
      );
      assert.equal(await listening(SIMULATOR_PORT), false, 'port 8006 still listens');
      assert.equal(await listening(BACKEND_PORT), false, 'port 8443 still listens');
      assert.match(output, /\[demo\] done/);
    },
  );
});

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
