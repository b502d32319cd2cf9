/**
 * Every input format under random corruption (a modest number of cases; `npm run test:props` runs many more):
 * each case reads or is refused with the format's error type and a message naming the file and the field, line
 * or byte offset, within a time and memory budget per case.
 */
import { jest } from '@jest/globals';
import { describeFuzz } from './describe-fuzz.js';

jest.setTimeout(120_000);

describeFuzz('input formats under random corruption', Number(process.env.MODC_FUZZ_RUNS ?? 40), Number(process.env.MODC_FUZZ_SEED ?? 20250613));
