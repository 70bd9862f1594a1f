import { APT_PROXY_FILE, renderAptProxyConf } from '../../network/render/apt-cacher-ng.js';
import type { StepContext, StepDefinition } from '../../tasks/engine.js';
import type { AppsDeps } from '../deps.js';
import type { DeployTaskData, DeployTaskInput } from './steps.js';

type Context = StepContext<DeployTaskInput, DeployTaskData>;

/**
 * Before the manifest's install steps: points the container's apt at the appliance's package
 * cache while it is on and running (APT_PROXY_FILE), and removes that file otherwise, so a
 * container never waits on a cache that is not there. Idempotent: the same file, or none.
 */
export function packageCacheStep(
  deps: AppsDeps,
  vmidOf: (ctx: Context) => number,
): StepDefinition<DeployTaskInput, DeployTaskData> {
  return {
    name: 'package-cache',
    async run(ctx) {
      const pct = deps.pve.pct(ctx.input.node);
      const vmid = vmidOf(ctx);
      const inCt = (argv: string[]) => pct.exec(vmid, argv, { signal: ctx.signal });
      if ((await inCt(['test', '-d', '/etc/apt/apt.conf.d'])).code !== 0) return 'no apt in the container';
      const proxy = ctx.data.fallback ? undefined : await deps.network.packageCacheProxy();
      if (!proxy) {
        await pct.execChecked(vmid, ['rm', '-f', APT_PROXY_FILE], { signal: ctx.signal });
        return deps.network.settings.packageCache.enabled
          ? 'the package cache is not running: apt goes to the mirrors directly'
          : 'package cache off: apt goes to the mirrors directly';
      }
      // The text is ours (a validated address), passed as an argument, never in the script.
      const write = 'printf "%s" "$1" > "$2.tmp" && mv "$2.tmp" "$2"';
      const content = renderAptProxyConf(deps.network.settings.gateway);
      await pct.execChecked(vmid, ['sh', '-c', write, 'sh', content, APT_PROXY_FILE], { signal: ctx.signal });
      return `apt through the package cache at ${proxy}`;
    },
  };
}
