import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Config } from '../../core/config/schema.js';
import type { Logger } from '../../core/logger.js';
import type { ComponentStatus, ServiceModule } from '../../core/module.js';
import { PveClient } from './client.js';
import { PveError } from './errors.js';
import type { Executor } from './executor/executor.js';
import { LocalExecutor } from './executor/local.js';
import { SshExecutor } from './executor/ssh.js';
import { Pct } from './pct.js';
import { PveTransport, type PveCredentials } from './transport.js';

const STATUS_CACHE_MS = 5000;

/**
 * Everything that talks to Proxmox: the API (as our service, or as the caller), and `pct`
 * on each node through its executor. Other modules receive this in their context.
 */
export class PveService implements ServiceModule {
  readonly name = 'pve';
  readonly node: string;
  readonly transport: PveTransport;
  private serviceClient: PveClient | undefined;
  private readonly executors = new Map<string, Executor>();
  private lastStatus: { at: number; status: ComponentStatus } | undefined;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    transport?: PveTransport,
  ) {
    this.node = config.pve.node ?? hostname().split('.')[0]!;
    this.transport =
      transport ??
      new PveTransport({
        host: config.pve.host,
        port: config.pve.port,
        timeoutMs: config.pve.timeoutMs,
        ca: readOptional(config.pve.caFile),
      });
  }

  /** The API as Proximity itself (its own token). Throws if the token is not installed. */
  get service(): PveClient {
    if (!this.serviceClient) {
      const secret = readOptional(this.config.pve.tokenSecretFile)?.trim();
      if (!secret) {
        throw new PveError(
          'auth',
          `Proximity's Proxmox VE API token is missing (${this.config.pve.tokenSecretFile}); reinstall the package or create the token with pveum`,
          { serviceCredential: true },
        );
      }
      this.serviceClient = new PveClient(this.transport, {
        kind: 'token',
        tokenId: this.config.pve.tokenId,
        secret,
        service: true,
      });
    }
    return this.serviceClient;
  }

  /** The API as the caller: what they may not do, PVE refuses. */
  as(credentials: PveCredentials): PveClient {
    return new PveClient(this.transport, credentials);
  }

  /** `pct` on a node: locally on this node, over SSH (pinned host key) on the others. */
  pct(node: string = this.node): Pct {
    return new Pct(this.executor(node));
  }

  executor(node: string = this.node): Executor {
    let executor = this.executors.get(node);
    if (!executor) {
      if (node === this.node) {
        executor = new LocalExecutor();
      } else {
        const target = this.config.nodes[node];
        if (!target)
          throw new PveError(
            'unreachable',
            `node ${node} has no SSH settings in the configuration (nodes.${node})`,
          );
        executor = new SshExecutor({
          host: target.host,
          port: target.port,
          username: target.username,
          privateKey: readFileSync(target.privateKeyFile),
          hostKeyFingerprint: target.hostKeyFingerprint,
        });
      }
      this.executors.set(node, executor);
    }
    return executor;
  }

  async status(): Promise<ComponentStatus> {
    if (this.lastStatus && Date.now() - this.lastStatus.at < STATUS_CACHE_MS) return this.lastStatus.status;
    let status: ComponentStatus;
    try {
      const version = await this.service.api.version.$get();
      status = { health: 'healthy', node: this.node, version: version.version, release: version.release };
    } catch (error) {
      status = { health: 'down', node: this.node, reasons: [(error as Error).message] };
    }
    this.lastStatus = { at: Date.now(), status };
    return status;
  }

  async stop(): Promise<void> {
    for (const executor of this.executors.values()) await executor.close?.();
    await this.transport.close();
    this.logger.debug('pve connections closed');
  }
}

function readOptional(file: string | null): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
