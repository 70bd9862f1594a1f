/**
 * Writing property strings the way PVE writes them into guest configs
 * (pve-common JSONSchema.pm print_property_string): the default key's value first (bare),
 * then the required keys in sorted order, then the others sorted, as `key=value`.
 * So a container NIC reads `name=eth0,bridge=vmbr0,hwaddr=BC:24:11:..,ip=dhcp,type=veth`.
 */
import type { PropertyValues, SchemaProperty } from './validate.js';

export function printPropertyString(format: Record<string, SchemaProperty>, data: PropertyValues): string {
  const defaultKey = Object.keys(format).find((key) => format[key]!.default_key);
  const done = new Set<string>();
  const parts: string[] = [];
  const add = (key: string, bare: boolean) => {
    if (done.has(key)) return;
    done.add(key);
    const value = data[key];
    if (value === undefined) return;
    if (value.includes(',')) throw new Error(`illegal value with commas for ${key}`);
    parts.push(bare ? value : `${key}=${value}`);
  };
  if (defaultKey) add(defaultKey, true);
  const keys = Object.keys(data).sort();
  for (const key of keys) if (format[key] && !format[key]!.optional) add(key, false);
  for (const key of keys) add(key, false);
  return parts.join(',');
}
