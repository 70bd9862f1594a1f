/**
 * Storages, their content and the appliance (template) index
 * (pve-storage src/PVE/API2/Storage/Status.pm index, Content.pm index;
 * pve-manager API2/Nodes.pm aplinfo, apl_download).
 */
import { die, paramError } from '../errors.js';
import { APPLIANCES, STORAGES, templateFormat } from '../storage.js';
import { boolParam, intParam, stringParam, userOf, type Route } from '../simulator-state.js';
import { splitList } from '../validate.js';

const list: Route = {
  method: 'GET',
  path: '/nodes/{node}/storage',
  handler: (context) => {
    const { sim, params } = context;
    const user = userOf(context);
    const content = splitList(stringParam(params, 'content') ?? '');
    const only = stringParam(params, 'storage');
    if (only !== undefined) sim.storage.definition(only);
    return STORAGES.filter(
      (storage) =>
        // "Only list entries where you have 'Datastore.Audit' or 'Datastore.AllocateSpace'"
        sim.acl.checkAny(
          user,
          `/storage/${storage.storage}`,
          ['Datastore.Audit', 'Datastore.AllocateSpace'],
          true,
        ) &&
        (only === undefined || storage.storage === only) &&
        content.every((type) => storage.content.includes(type)),
    ).map((storage) => {
      const usage = sim.storage.usage(storage.storage);
      const entry: Record<string, unknown> = {
        storage: storage.storage,
        type: storage.type,
        content: storage.content.join(','),
        shared: storage.shared,
        enabled: 1,
        active: 1,
        total: usage.total,
        used: usage.used,
        avail: usage.avail,
        used_fraction: usage.total > 0 ? usage.used / usage.total : 0,
      };
      if (boolParam(params, 'format')) {
        entry.format =
          storage.type === 'dir'
            ? { default: 'raw', supported: ['raw', 'qcow2', 'vmdk', 'subvol'] }
            : { default: 'raw', supported: ['raw'] };
      }
      return entry;
    });
  },
};

const content: Route = {
  method: 'GET',
  path: '/nodes/{node}/storage/{storage}/content',
  handler: ({ sim, params }) => {
    const storage = stringParam(params, 'storage')!;
    sim.storage.definition(storage);
    const wanted = stringParam(params, 'content');
    const vmid = intParam(params, 'vmid');
    const result: Record<string, unknown>[] = [];
    if (storage === 'local' && (wanted === undefined || wanted === 'vztmpl') && vmid === undefined) {
      for (const template of sim.storage.templates()) {
        result.push({
          volid: `local:vztmpl/${template.name}`,
          content: 'vztmpl',
          format: templateFormat(template.name),
          size: template.size,
          ctime: template.ctime,
        });
      }
    }
    for (const volume of sim.storage.volumes()) {
      if (!volume.volid.startsWith(`${storage}:`)) continue;
      if (wanted !== undefined && wanted !== volume.content) continue;
      if (vmid !== undefined && vmid !== volume.vmid) continue;
      result.push({
        volid: volume.volid,
        content: volume.content,
        format: 'raw',
        size: volume.size,
        vmid: volume.vmid,
      });
    }
    return result;
  },
};

const aplinfo: Route = {
  method: 'GET',
  path: '/nodes/{node}/aplinfo',
  handler: () => APPLIANCES.map((appliance) => ({ ...appliance })),
};

const download: Route = {
  method: 'POST',
  path: '/nodes/{node}/aplinfo',
  handler: (context) => {
    const { sim, params } = context;
    const template = stringParam(params, 'template')!;
    const storage = stringParam(params, 'storage')!;
    const appliance = APPLIANCES.find((candidate) => candidate.template === template);
    if (!appliance) throw paramError({ template: 'no such template' });
    const definition = sim.storage.definition(storage);
    if (definition.type !== 'dir') throw die(`cannot download to storage type '${definition.type}'`);
    if (!definition.content.includes('vztmpl')) throw die(`storage '${storage}' does not support templates`);
    return sim.tasks.start('download', template, userOf(context), async (log) => {
      log.log(`starting template download from: http://download.proxmox.com/images/${appliance.location}`);
      log.log(`target file: /var/lib/vz/template/cache/${template}`);
      sim.storage.addTemplate(template, Math.floor(sim.clock() / 1000));
      log.log(`download of '${template}' finished`);
    });
  },
};

export const storageRoutes: Route[] = [list, content, aplinfo, download];
