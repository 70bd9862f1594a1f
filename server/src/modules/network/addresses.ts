/**
 * The network's validators and address arithmetic are the contract's (server/src/contract,
 * `docs/api.md`): the plugin checks input by the same rules. Re-exported for the module's
 * own files.
 */
export {
  cidrSchema,
  hostnameSchema,
  inSubnet,
  ipToNumber,
  ipv4Schema,
  macSchema,
  netmask,
  numberToIp,
  type Cidr,
} from '../../contract/network.js';
