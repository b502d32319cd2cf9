/** The fuzz targets, one per input format, each bound to the harness. */
import { fuzz, type FuzzOptions, type FuzzOutcomes, type FuzzTarget } from '../harness.js';
import { configTarget } from './config.js';
import { indexTarget } from './index-file.js';
import { imageTarget } from './image.js';
import { inputsTarget } from './inputs-file.js';
import { irTarget } from './ir-text.js';
import { tokenizerTarget } from './tokenizer.js';

export interface BoundTarget {
  readonly name: string;
  readonly fuzz: (o: FuzzOptions) => Promise<FuzzOutcomes>;
}

function bind<C>(t: FuzzTarget<C>): BoundTarget {
  return { name: t.name, fuzz: (o) => fuzz(t, o) };
}

export const FUZZ_TARGETS: readonly BoundTarget[] = [bind(configTarget), bind(tokenizerTarget), bind(indexTarget), bind(irTarget), bind(imageTarget), bind(inputsTarget)];
