/** The long fuzz run (`npm run test:props`): every input format on many more cases, seeded and the seed printed. */
import { jest } from '@jest/globals';
import { describeFuzz } from './describe-fuzz.js';
import { runSeed } from '../helpers/seed.js';

const RUNS = Number(process.env.MODC_FUZZ_RUNS ?? 3000);

jest.setTimeout(30 * 60 * 1000);

describeFuzz(`input formats under random corruption (${RUNS} cases each)`, RUNS, runSeed('fuzz'));
