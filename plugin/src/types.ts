// The shapes our API answers with, as the UI reads them: the contract's types
// (server/src/contract, `docs/api.md`), imported as types only, so the bundle gets no zod.

export type { AllowedAppView as AppView, AppStatus } from '../../server/src/contract/apps';
export type { CatalogSummary } from '../../server/src/contract/catalog';
export type { Route, RouteInput } from '../../server/src/contract/proxy';

// Tasks are global types (types/proximity.d.ts, from the same contract): Proximity.Api's
// declaration needs them.
export type TaskStep = ProximityTaskStep;
export type Task = ProximityTask;
export type TaskLogLine = ProximityTaskLogLine;
