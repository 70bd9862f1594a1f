import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../../../test/support/temp.js';
import { EXIT_CONFIG, StartupError } from '../errors.js';
import { loadConfig } from './load.js';

function writeConfig(content: unknown): string {
  const file = path.join(tempDir(), 'proximity.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function configFailure(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof StartupError, `expected StartupError, got ${String(error)}`);
    assert.equal(error.exitCode, EXIT_CONFIG);
    assert.doesNotMatch(error.message, /\n/, 'the message is one line');
    return error.message;
  }
  assert.fail('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('uses the defaults when the default file does not exist', () => {
    const config = loadConfig({ env: { PROXIMITY_CONFIG: undefined }, file: undefined });
    // /etc/proximity/proximity.json is absent on a development machine.
    assert.equal(config.listen.port, 8443);
    assert.equal(config.listen.host, '0.0.0.0');
    assert.equal(config.dataDir, '/var/lib/proximity');
    assert.equal(config.store.busyTimeoutMs, 5000);
  });

  it('reads the file and fills the rest with defaults', () => {
    const file = writeConfig({ listen: { port: 9000 } });
    const config = loadConfig({ file, env: {} });
    assert.equal(config.listen.port, 9000);
    assert.equal(config.listen.host, '0.0.0.0');
    assert.equal(config.log.level, 'info');
  });

  it('resolves a relative dataDir next to the file, not the working directory', () => {
    const file = writeConfig({ dataDir: 'state' });
    assert.equal(loadConfig({ file, env: {} }).dataDir, path.join(path.dirname(file), 'state'));
  });

  it('takes the file from PROXIMITY_CONFIG', () => {
    const file = writeConfig({ listen: { port: 1234 } });
    assert.equal(loadConfig({ env: { PROXIMITY_CONFIG: file } }).listen.port, 1234);
  });

  it('lets environment variables override the file', () => {
    const file = writeConfig({ listen: { port: 9000 }, log: { level: 'warn' } });
    const config = loadConfig({
      file,
      env: { PROXIMITY_LISTEN_PORT: '0', PROXIMITY_LOG_LEVEL: 'debug', PROXIMITY_DATA_DIR: '/tmp/x' },
    });
    assert.equal(config.listen.port, 0);
    assert.equal(config.log.level, 'debug');
    assert.equal(config.dataDir, '/tmp/x');
  });

  it('refuses an unknown key and names it', () => {
    const message = configFailure(() => loadConfig({ file: writeConfig({ listen: { prot: 1 } }), env: {} }));
    assert.match(message, /unknown key "listen\.prot"/);
  });

  it('refuses a wrong type and names the key and the file', () => {
    const file = writeConfig({ listen: { port: '8443' } });
    const message = configFailure(() => loadConfig({ file, env: {} }));
    assert.match(message, /key "listen\.port"/);
    assert.ok(message.includes(file));
  });

  it('refuses an out-of-range value', () => {
    const message = configFailure(() =>
      loadConfig({ file: writeConfig({ listen: { port: 70000 } }), env: {} }),
    );
    assert.match(message, /listen\.port/);
  });

  it('refuses a bad environment value and names the variable', () => {
    const file = writeConfig({});
    const message = configFailure(() => loadConfig({ file, env: { PROXIMITY_LISTEN_PORT: 'eighty' } }));
    assert.match(message, /PROXIMITY_LISTEN_PORT/);
    const level = configFailure(() => loadConfig({ file, env: { PROXIMITY_LOG_LEVEL: 'loud' } }));
    assert.match(level, /key "log\.level" \(PROXIMITY_LOG_LEVEL\)/);
  });

  it('refuses a named file that is missing, unreadable or not JSON', () => {
    const dir = tempDir();
    assert.match(
      configFailure(() => loadConfig({ file: path.join(dir, 'absent.json'), env: {} })),
      /cannot read .*absent\.json: ENOENT/,
    );
    const directory = path.join(dir, 'is-a-directory.json');
    mkdirSync(directory);
    assert.match(
      configFailure(() => loadConfig({ file: directory, env: {} })),
      /cannot read .*: EISDIR/,
    );
    assert.match(
      configFailure(() => loadConfig({ file: writeConfig('{"listen": '), env: {} })),
      /not valid JSON/,
    );
    assert.match(
      configFailure(() => loadConfig({ file: writeConfig('[1]'), env: {} })),
      /must contain a JSON object/,
    );
  });
});
