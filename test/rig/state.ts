/**
 * The rig's state file: what exists right now. Each creation step is recorded BEFORE it is
 * taken, so a crash at any point leaves a record `Rig.down()` can clean up from.
 * Containers are not listed here: the lxcPath directory is their record.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProcessRecord } from './processes.js';

export interface RigState {
  version: 1;
  name: string;
  createdAt: string;
  /** 'building' until up() finished; a rig left 'building' crashed during up(). */
  phase: 'building' | 'up';
  namespaces: string[];
  processes: ProcessRecord[];
}

export function readState(stateFile: string): RigState | undefined {
  let text: string;
  try {
    text = readFileSync(stateFile, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as RigState;
  } catch {
    // A torn write cannot happen (rename), but a hand-edited file can: treat as unknown.
    return undefined;
  }
}

/** Writes atomically (temporary file + rename): a crash never leaves half a state file. */
export function writeState(stateFile: string, state: RigState): void {
  mkdirSync(path.dirname(stateFile), { recursive: true });
  const temporary = `${stateFile}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, stateFile);
}

/** Read-modify-write of the state file. */
export function updateState(stateFile: string, change: (state: RigState) => void): RigState {
  const state = readState(stateFile);
  if (!state) throw new Error(`no rig state at ${stateFile}: is the rig up?`);
  change(state);
  writeState(stateFile, state);
  return state;
}
