import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router } from 'express';
import { startTestService } from '../../test/support/service.js';
import type { ModuleFactory } from './core/module.js';

describe('graceful shutdown', () => {
  it('finishes in-flight requests, refuses new connections, stops modules and closes the store', async () => {
    const events: string[] = [];
    let markArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (markArrived = resolve));
    const slowModule: ModuleFactory = () => {
      const router = Router();
      router.get('/slow', async (_req, res) => {
        markArrived();
        await new Promise((resolve) => setTimeout(resolve, 300));
        events.push('slow request answered');
        res.json({ done: true });
      });
      return { name: 'slow', publicRouter: router, stop: () => void events.push('module stopped') };
    };
    const service = await startTestService({ extraModules: [slowModule] });

    const inFlight = fetch(`${service.url}/slow`);
    await arrived;
    const stopped = service.stop().then(() => events.push('service stopped'));

    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { done: true });
    assert.equal(response.headers.get('connection'), 'close', 'clients are told to go away');

    await assert.rejects(fetch(`${service.url}/health`), 'no new connection is accepted');
    await stopped;
    assert.deepEqual(events, ['slow request answered', 'module stopped', 'service stopped']);
    assert.equal(service.store.db.open, false);
  });
});
