/**
 * Container metrics: GET .../rrddata (the sampler's round-robin data, pve-container LXC.pm
 * rrddata) and GET .../interfaces (PVE::LXC::get_interfaces: the addresses inside a running
 * container; `null` when it is not running, as PVE returns undef then).
 */
import { die } from '../errors.js';
import { intParam, stringParam, type Route } from '../simulator-state.js';

const rrddata: Route = {
  method: 'GET',
  path: '/nodes/{node}/lxc/{vmid}/rrddata',
  handler: ({ sim, params }) => {
    const vmid = intParam(params, 'vmid')!;
    if (!sim.containers.get(vmid) && !sim.rrd.has(vmid)) {
      // pve-cluster RRD.pm: RRDs::fetch on a file pvestatd never wrote
      throw die(`RRD error: opening '/var/lib/rrdcached/db/pve-vm-9.0/${vmid}': No such file or directory`);
    }
    const cf = stringParam(params, 'cf') === 'MAX' ? 'MAX' : 'AVERAGE';
    return sim.rrd.rows(vmid, stringParam(params, 'timeframe')!, cf, Math.floor(sim.clock() / 1000));
  },
};

const interfaces: Route = {
  method: 'GET',
  path: '/nodes/{node}/lxc/{vmid}/interfaces',
  handler: async ({ sim, params }) => {
    const vmid = intParam(params, 'vmid')!;
    if ((await sim.runtime.state(vmid)) !== 'running') return null;
    return (await sim.runtime.interfaces(vmid)).map((entry) => {
      const addresses = [entry.inet, entry.inet6].filter((a): a is string => Boolean(a));
      const result: Record<string, unknown> = {
        name: entry.name,
        hwaddr: entry.hwaddr,
        'hardware-address': entry.hwaddr,
        'ip-addresses': addresses.map((address) => {
          const [ip, prefix] = address.split('/');
          return {
            'ip-address': ip,
            'ip-address-type': address.includes(':') ? 'inet6' : 'inet',
            prefix: Number(prefix),
          };
        }),
      };
      if (entry.inet) result.inet = entry.inet;
      if (entry.inet6) result.inet6 = entry.inet6;
      return result;
    });
  },
};

export const lxcMetricsRoutes: Route[] = [rrddata, interfaces];
