/**
 * A PVE task id: `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:` with the numbers
 * in upper-case hex (pve-common PVE::Tools::upid_encode).
 */
export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  startTime: Date;
  type: string;
  id: string;
  user: string;
}

const UPID =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-F]{8}):([0-9A-F]{8,9}):([0-9A-F]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

export function parseUpid(upid: string): Upid | undefined {
  const match = UPID.exec(upid);
  if (!match) return undefined;
  return {
    node: match[1]!,
    pid: parseInt(match[3]!, 16),
    pstart: parseInt(match[4]!, 16),
    startTime: new Date(parseInt(match[5]!, 16) * 1000),
    type: match[6]!,
    id: match[7]!,
    user: match[8]!,
  };
}
