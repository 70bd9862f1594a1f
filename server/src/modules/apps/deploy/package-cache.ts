import {
  APT_PROXY_DETECT,
  APT_PROXY_FILE,
  renderAptProxyConf,
  renderAptProxyDetect,
} from '../../network/render/apt-cacher-ng.js';
import type { StepContext, StepDefinition } from '../../tasks/engine.js';
import type { AppsDeps } from '../deps.js';
import type { DeployTaskData, DeployTaskInput } from './steps.js';

type Context = StepContext<DeployTaskInput, DeployTaskData>;

/**
 * Before the manifest's install steps: points the container's apt at the appliance's package
 * cache while it is on and running (APT_PROXY_FILE, which asks APT_PROXY_DETECT whether the
 * cache answers), and removes both otherwise. Idempotent: the same file, or none.
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
        await pct.execChecked(vmid, ['rm', '-f', APT_PROXY_FILE, APT_PROXY_DETECT], { signal: ctx.signal });
        return deps.network.settings.packageCache.enabled
          ? 'the package cache is not running: apt goes to the mirrors directly'
          : 'package cache off: apt goes to the mirrors directly';
      }
      // The text is ours (a validated address), passed as an argument, never in the script.
      // The script first: the conf names it. Containers made now keep working when the cache
      // is turned off later: the script then answers DIRECT (docs/api.md, the package cache).
      const write =
        'mkdir -p "${2%/*}" && printf "%s" "$1" > "$2.tmp" && chmod "$3" "$2.tmp" && mv "$2.tmp" "$2"';
      const { gateway } = deps.network.settings;
      for (const [content, file, mode] of [
        [renderAptProxyDetect(gateway), APT_PROXY_DETECT, '755'],
        [renderAptProxyConf(gateway), APT_PROXY_FILE, '644'],
      ] as const)
        await pct.execChecked(vmid, ['sh', '-c', write, 'sh', content, file, mode], { signal: ctx.signal });
      return `apt through the package cache at ${proxy}`;
    },
  };
}
