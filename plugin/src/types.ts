// The shapes our API answers with (server/src/modules/*), as the UI reads them.

export type AppStatus =
  | 'running'
  | 'stopped'
  | 'unreachable'
  | 'missing'
  | 'unknown'
  | 'deploying'
  | 'ready'
  | 'failed'
  | 'deleting';

export interface AppView {
  hostname: string;
  name: string;
  catalogId: string | null;
  url: string;
  node: string;
  vmid: number | null;
  status: AppStatus;
  health: { healthy: boolean; status?: number; reason?: string; at: string } | null;
  ip: string | null;
  port: number;
  cpu: number | null;
  memory: { used: number; max: number } | null;
  uptime: number | null;
  taskId: string | null;
  adopted: boolean;
  allowed: { read: boolean; power: boolean; resize: boolean; command: boolean; delete: boolean };
}

export interface CatalogSummary {
  id: string;
  name: string;
  description: string;
  category: string;
  icon?: string;
  website: string;
  source: 'proximity' | 'community-scripts';
  version: string;
  installSteps: number;
}

// Tasks are global types (types/proximity.d.ts): Proximity.Api's declaration needs them.
export type TaskStep = ProximityTaskStep;
export type Task = ProximityTask;
export type TaskLogLine = ProximityTaskLogLine;
