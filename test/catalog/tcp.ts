/**
 * The catalog test's check of a TCP service (a database or broker without a web UI), as a
 * client on proximity-lan uses it: its name resolves to the container itself (not to the
 * gateway, where Caddy listens), and a client connected to <name>.prox.local:<port> is
 * answered in the service's own protocol, with the credentials the deploy generated.
 *
 * The client is a Node.js script run in the client container's network namespace (the
 * busybox client has no redis-cli or psql); one exchange per known service, a bare connect
 * for the others.
 */
import { dig, inContainerNetwork } from '../node/lan.js';

/**
 * argv: service, ip, port, values (JSON: the manifest's env defaults and the secrets).
 * Prints one line on success and exits 0; otherwise says what it got and exits 1.
 */
const CLIENT_SCRIPT = String.raw`
const net = require('node:net');
const [service, host, port, json] = process.argv.slice(1);
const v = JSON.parse(json);
const str = (text) => { const b = Buffer.from(text); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]); };
const mqttConnect = (user, password) => {
  const flags = user ? 0xc2 : 0x02;
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, flags, 0, 60]), str('proximity-catalog'),
    ...(user ? [str(user), str(password)] : [])]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
};
const pgStartup = (user, database) => {
  const body = Buffer.from('user\0' + user + '\0database\0' + database + '\0\0');
  const head = Buffer.alloc(8); head.writeUInt32BE(8 + body.length); head.writeUInt32BE(196608, 4);
  return Buffer.concat([head, body]);
};
// Each: what to send on connect, and when the answer so far is good (true), bad (a reason) or incomplete.
const talks = {
  redis: [Buffer.from('AUTH ' + v.REDIS_PASSWORD + '\r\nPING\r\n'),
    (a) => a.toString().includes('+PONG') ? true : a.toString().startsWith('-') ? a.toString().trim() : undefined],
  postgresql: [pgStartup(v.POSTGRES_USER, v.POSTGRES_DB),
    (a) => a.length < 1 ? undefined : a[0] === 0x52 ? true : 'refused: ' + a.toString('latin1').replace(/[^ -~]/g, ' ').trim()],
  mariadb: [Buffer.alloc(0),
    (a) => a.length < 5 ? undefined : a[4] === 0x0a ? true : 'refused: ' + a.subarray(7).toString('latin1')],
  mosquitto: [mqttConnect(v.MQTT_USER, v.MQTT_PASSWORD),
    (a) => a.length < 4 ? undefined : a[0] === 0x20 && a[3] === 0 ? true : 'CONNACK return code ' + a[3]],
  'mosquitto-anonymous': [mqttConnect(undefined),
    (a) => a.length < 4 ? undefined : a[0] === 0x20 && a[3] === 5 ? true : 'anonymous CONNACK return code ' + a[3] + ' (expected 5, not authorized)'],
  memcached: [Buffer.from('version\r\n'),
    (a) => a.toString().startsWith('VERSION ') ? true : a.toString().includes('\n') ? a.toString().trim() : undefined],
};
const [hello, judge] = talks[service] ?? [undefined, () => true];
const socket = net.connect({ host, port: Number(port) });
let answer = Buffer.alloc(0);
const done = (ok, why) => { console.log(ok ? service + ' answered on ' + host + ':' + port : service + ': ' + why); socket.destroy(); process.exit(ok ? 0 : 1); };
socket.setTimeout(5000, () => done(false, 'no answer in 5 s'));
socket.on('error', (error) => done(false, error.message));
socket.on('connect', () => { if (!hello) done(true); else if (hello.length > 0) socket.write(hello); });
socket.on('data', (chunk) => { answer = Buffer.concat([answer, chunk]); const verdict = judge(answer); if (verdict === true) done(true); else if (verdict !== undefined) done(false, verdict); });
socket.on('end', () => done(false, 'closed the connection: ' + answer.toString('latin1')));
`;

/** The exchanges to run for a catalog id (a broker is also checked to refuse anonymous clients). */
const EXCHANGES: Record<string, string[]> = { mosquitto: ['mosquitto', 'mosquitto-anonymous'] };

/**
 * From the client: `<name>.prox.local` resolves to `expectIp` (the container), and the service
 * answers there in its protocol. Returns undefined when all is well, or what went wrong.
 */
export async function tcpServiceAnswers(options: {
  client: number;
  id: string;
  name: string;
  port: number;
  expectIp: string;
  values: Record<string, string>;
}): Promise<string | undefined> {
  const resolved = (await dig(options.client, `${options.name}.prox.local`)).split('\n');
  // The container's own address only (a record and its DHCP lease may both answer it).
  if (resolved[0] === '' || resolved.some((ip) => ip !== options.expectIp))
    return `${options.name}.prox.local resolves to ${resolved.join(', ') || 'nothing'}, not to its container ${options.expectIp}`;
  for (const exchange of EXCHANGES[options.id] ?? [options.id]) {
    const argv = [process.execPath, '-e', CLIENT_SCRIPT, exchange, options.expectIp, String(options.port)];
    const result = await inContainerNetwork(options.client, [...argv, JSON.stringify(options.values)]);
    if (result.code !== 0) return `${result.stdout.trim()} ${result.stderr.trim()}`.trim();
  }
  return undefined;
}
