import type { ServiceSite } from '../network/site/site.js';
import type { ProbeResult } from '../../contract/apps.js';
import type { AppSpec } from './app.js';

export type { ProbeResult };

const PROBE_SECONDS = 5;

/**
 * A web app's HTTP probe run on the network's site (the appliance, or the node in host placement):
 * the only place that reaches the LAN (or on the node, for a fallback container on the uplink). `wget -S` prints the status line on stderr for
 * busybox and GNU wget alike; `timeout` bounds it (busybox 1.35's own -T crashes).
 */
export async function probe(
  site: Pick<ServiceSite, 'run'>,
  target: { url: string; hostHeader?: string | undefined; check: AppSpec['healthCheck'] },
): Promise<ProbeResult> {
  const argv = [
    'timeout',
    String(PROBE_SECONDS),
    'wget',
    '-S',
    '-O',
    '/dev/null',
    ...(target.url.startsWith('https:') ? ['--no-check-certificate'] : []),
    ...(target.hostHeader ? ['--header', `Host: ${target.hostHeader}`] : []),
    target.url,
  ];
  const result = await site.run(argv, { timeoutMs: (PROBE_SECONDS + 5) * 1000, maxOutputBytes: 16 * 1024 });
  const at = new Date().toISOString();
  const statuses = [...`${result.stderr}\n${result.stdout}`.matchAll(/HTTP\/\d(?:\.\d)? (\d{3})/g)];
  const status = statuses.length > 0 ? Number(statuses[statuses.length - 1]![1]) : undefined;
  if (status === undefined) {
    const reason =
      result.code === 124 ? 'no answer in 5 s' : lastLine(result.stderr) || `wget exited ${result.code}`;
    return { healthy: false, reason, at, durationMs: result.durationMs };
  }
  const expected = target.check.expectStatus;
  const healthy = expected === undefined ? status < 500 : status === expected;
  return {
    healthy,
    status,
    ...(healthy ? {} : { reason: `answered ${status}, expected ${expected ?? 'below 500'}` }),
    at,
    durationMs: result.durationMs,
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

/**
 * A TCP service's probe: a connect to ip:port from the network's site, as a LAN client
 * connects. bash's /dev/tcp where there is bash (a Debian appliance or node: essential
 * there, netcat is not), busybox's `nc -z` otherwise; the address and port are arguments
 * of the script, never part of its text.
 */
const CONNECT_SCRIPT =
  'if command -v bash >/dev/null 2>&1; then exec bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$1" "$2"; fi; exec nc -z -w 5 "$1" "$2"';

export async function probeTcp(
  site: Pick<ServiceSite, 'run'>,
  target: { ip: string; port: number },
): Promise<ProbeResult> {
  const argv = [
    'timeout',
    String(PROBE_SECONDS),
    'sh',
    '-c',
    CONNECT_SCRIPT,
    'probe',
    target.ip,
    String(target.port),
  ];
  const result = await site.run(argv, { timeoutMs: (PROBE_SECONDS + 5) * 1000, maxOutputBytes: 16 * 1024 });
  const at = new Date().toISOString();
  if (result.code === 0) return { healthy: true, at, durationMs: result.durationMs };
  const reason =
    result.code === 124
      ? `no connection to ${target.ip}:${target.port} in ${PROBE_SECONDS} s`
      : `${target.ip}:${target.port} refused the connection${lastLine(result.stderr) ? ` (${lastLine(result.stderr)})` : ''}`;
  return { healthy: false, reason, at, durationMs: result.durationMs };
}
