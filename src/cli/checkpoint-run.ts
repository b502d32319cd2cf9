/** What the two `modc run --checkpoint` modes share: their options, and opening the checkpoint with progress. */
import { type LoadedCheckpoint, openCheckpoint } from '../../models/index.js';
import { isDirectory, progressBar } from '../index.js';
import { existsSync } from 'node:fs';
import { ConfigError } from '../../models/index.js';
import type { Executor } from '../runtime/executor.js';
import type { SamplingOptions } from '../runtime/sampling.js';
import type { CommandIO } from './main.js';

export interface CheckpointRunOptions {
  readonly dir: string;
  readonly executor: Executor;
  readonly maxNewTokens: number;
  readonly sampling: SamplingOptions;
  /** Draw the loading progress bar even when stderr is not a terminal. */
  readonly progress: boolean;
}

/** Fails at once, naming the path, when the checkpoint directory is missing or is not a directory. */
export function checkCheckpointDir(dir: string): void {
  if (!isDirectory(dir)) throw new ConfigError(existsSync(dir) ? `${dir}: not a directory (--checkpoint takes a checkpoint directory)` : `${dir}: no such checkpoint directory`);
}

export function loadCheckpoint(o: CheckpointRunOptions, io: CommandIO): LoadedCheckpoint {
  return openCheckpoint(o.dir, { progress: (total) => progressBar(io.progress, total, 'loading weights', o.progress || io.progress.isTTY === true) });
}
