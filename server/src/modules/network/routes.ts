import { Router, type Request } from 'express';
import { z } from 'zod';
import { errors } from '../../core/errors.js';
import { parseInput } from '../../core/http/validate.js';
import type { AuditRepository } from '../audit/repository.js';
import { callerOf, requirePrivilege } from '../auth/middleware.js';
import type { AuthService } from '../auth/service.js';
import {
  namesInputSchema,
  nameIpInputSchema,
  reservationInputSchema,
  testNatInputSchema,
} from '../../contract/network.js';
import { hostnameSchema, macSchema } from './addresses.js';
import type { Appliance } from './appliance.js';
import { DnsService } from './dns.js';
import { networkSettingsSchema, settingsToInput } from './settings.js';
import type { NetworkService } from './service.js';

const reservationInput = reservationInputSchema;
const namesInput = namesInputSchema;
const macParam = z.strictObject({ mac: macSchema });
const hostnameParam = z.strictObject({ hostname: hostnameSchema });
const logsQuery = z.strictObject({ lines: z.coerce.number().int().min(1).max(2000).default(200) });
const eventsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(50) });
const testNatInput = testNatInputSchema;

/**
 * The network's API: the seeds' status and infrastructure paths under /system, settings,
 * reservations, names and leases under /network. Reading needs Sys.Audit on /, changing
 * Sys.Modify on /, as PVE guards its own node network settings.
 */
export function networkRoutes(deps: {
  network: NetworkService;
  appliance: Appliance;
  audit: AuditRepository;
  auth: AuthService;
}): Router {
  const { network, appliance, audit, auth } = deps;
  const router = Router();
  const canRead = requirePrivilege(auth, 'Sys.Audit', '/');
  const canModify = requirePrivilege(auth, 'Sys.Modify', '/');
  const record = (req: Request, action: string, target: string | null, details?: Record<string, unknown>) =>
    audit.append({ actor: callerOf(req).id, action, target, result: 'ok', details: details ?? null });

  router.get('/system/network/status', canRead, async (_req, res) => {
    res.json({ data: await network.status() });
  });
  router.post('/system/network/initialize', canModify, async (req, res) => {
    const status = await network.initialize();
    record(req, 'network.initialize', null, { health: status.health });
    res.json({ data: status });
  });
  router.post('/system/network/rebuild-bridge', canModify, async (req, res) => {
    const status = await network.rebuildBridge();
    record(req, 'network.rebuild-bridge', network.settings.bridge);
    res.json({ data: status });
  });

  router.get('/system/infrastructure/status', canRead, async (_req, res) => {
    // Polled by every open Overview: served from the shared measurement, with its age.
    const { value: status, measuredAt, ageMs } = await network.sharedStatus();
    const wanAddress = status.appliance?.state === 'running' ? (await network.wanAddress()).value : null;
    res.json({
      data: {
        placement: status.placement,
        health: status.health,
        reasons: status.reasons,
        appliance: status.appliance ? { ...status.appliance, wanAddress: wanAddress ?? null } : null,
        services: {
          dhcp: status.dhcp,
          nat: status.nat,
          bridge: status.bridge,
          packageCache: status.packageCache,
        },
        fallback: status.fallback,
        lastPass: status.lastPass,
        events: network.events(20),
        measuredAt: measuredAt.toISOString(),
        ageMs,
      },
    });
  });
  router.post('/system/infrastructure/retry', canModify, async (req, res) => {
    const status = await network.retry();
    record(req, 'network.retry', null, { health: status.health });
    res.json({ data: status });
  });
  router.post('/system/infrastructure/appliance/restart', canModify, async (req, res) => {
    // Nothing to restart before the network made it: a clear 409, not pct's failure as a 502.
    if (!network.initialized || network.settings.placement !== 'appliance')
      throw errors.conflict('the network does not use an appliance: POST /system/network/initialize first');
    if ((await appliance.state()) === 'absent')
      throw errors.conflict(
        `appliance CT ${appliance.vmid} does not exist: POST /system/infrastructure/retry makes it`,
      );
    await appliance.restart();
    record(req, 'appliance.restart', `ct/${appliance.vmid}`);
    await network.retry();
    res.json({ data: await network.status() });
  });
  router.get('/system/infrastructure/appliance/logs', canRead, async (req, res) => {
    const { lines } = parseInput(logsQuery, req.query, 'query');
    const site = await network.requireSite();
    res.json({ data: { site: site.description, lines: new DnsService(site).logTail(lines) } });
  });
  router.get('/system/infrastructure/events', canRead, (req, res) => {
    const { limit } = parseInput(eventsQuery, req.query, 'query');
    res.json({ data: network.events(limit) });
  });
  router.post('/system/infrastructure/test-nat', canModify, async (req, res) => {
    const input = parseInput(testNatInput, req.body, 'body');
    res.json({ data: await network.testNat(input) });
  });

  router.get('/network/settings', canRead, (_req, res) => {
    res.json({ data: settingsToInput(network.settings) });
  });
  router.put('/network/settings', canModify, async (req, res) => {
    // A merge of the fields sent onto the current settings (README.md, Network): a body that names
    // no field changes nothing, and nothing is reset to a default by omission.
    const sent: unknown = req.body;
    const current = settingsToInput(network.settings);
    const merged = isPlainObject(sent) ? { ...current, ...sent } : sent;
    // One level deeper for packageCache: {"packageCache":{"enabled":false}} keeps the size.
    if (isPlainObject(merged) && isPlainObject(sent) && isPlainObject(sent.packageCache))
      merged.packageCache = { ...(current.packageCache as object), ...sent.packageCache };
    const settings = parseInput(networkSettingsSchema, merged, 'settings');
    await network.updateSettings(settings);
    record(req, 'network.settings', null, settingsToInput(settings));
    res.json({ data: settingsToInput(settings) });
  });

  router.get('/network/leases', canRead, (_req, res) => {
    res.json({ data: network.leases() });
  });

  router.get('/network/reservations', canRead, (_req, res) => {
    res.json({ data: network.reservations() });
  });
  router.post('/network/reservations', canModify, async (req, res) => {
    const input = parseInput(reservationInput, req.body, 'reservation');
    const reservation = await network.addReservation(input);
    record(req, 'network.reservation.add', reservation.hostname, {
      mac: reservation.mac,
      ip: reservation.ip,
    });
    res.status(201).json({ data: reservation });
  });
  router.delete('/network/reservations/:mac', canModify, async (req, res) => {
    const { mac } = parseInput(macParam, req.params, 'path');
    const applied = await network.deleteReservation(mac);
    record(req, 'network.reservation.delete', mac);
    res.json({ data: applied });
  });

  router.get('/network/names', canRead, (_req, res) => {
    res.json({ data: network.names() });
  });
  router.post('/network/names', canModify, async (req, res) => {
    const { names } = parseInput(namesInput, req.body, 'names');
    const applied = await network.putNames(names);
    record(req, 'network.names.put', null, { count: names.length });
    res.json({ data: applied });
  });
  router.put('/network/names/:hostname', canModify, async (req, res) => {
    const { hostname } = parseInput(hostnameParam, req.params, 'path');
    const { ip } = parseInput(nameIpInputSchema, req.body, 'body');
    const applied = await network.putNames([{ hostname, ip }], () => 'hostname');
    record(req, 'network.names.put', hostname, { ip });
    res.json({ data: applied });
  });
  router.delete('/network/names/:hostname', canModify, async (req, res) => {
    const { hostname } = parseInput(hostnameParam, req.params, 'path');
    const applied = await network.deleteName(hostname);
    record(req, 'network.names.delete', hostname);
    res.json({ data: applied });
  });
  return router;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
