#!/usr/bin/env node
import { Command } from 'commander';
import { loadConfig } from './core/config/load.js';
import { StartupError } from './core/errors.js';
import { startService, type RunningService } from './service.js';
import { version } from './version.js';

/**
 * The service's entry point (systemd runs `node /usr/lib/proximity/server/dist/main.js`).
 * Start-up failures print one line on stderr and exit non-zero; SIGTERM/SIGINT shut down
 * gracefully; a second signal forces the exit.
 */
async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('proximity-server')
    .description('Proximity backend for Proxmox VE')
    .version(version)
    .option('-c, --config <file>', 'configuration file (default /etc/proximity/proximity.json)')
    .parse(argv);
  const { config: file } = program.opts<{ config?: string }>();

  let service: RunningService;
  try {
    service = await startService(loadConfig({ file }));
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`proximity: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      process.stderr.write(`proximity: cannot listen: ${(error as Error).message}\n`);
      process.exit(1);
    }
    throw error;
  }
  process.stdout.write(`API: ${service.url}/api/v1\n`);

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) {
      service.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    service.logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        service.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // A rejection nobody handles is a bug whose effects are unknown: log it with its stack and
  // exit non-zero so systemd restarts a clean process (the store is crash-safe, WAL).
  process.on('unhandledRejection', (reason: unknown) => {
    service.logger.fatal({ err: reason }, 'unhandled promise rejection');
    process.exit(70);
  });
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(
    `proximity: unexpected start-up failure: ${(error as Error).stack ?? String(error)}\n`,
  );
  process.exit(1);
});
