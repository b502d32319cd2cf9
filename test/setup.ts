/** Jest setup for every test file: pipelines verify the graph after every pass. */
import { setVerifyByDefault } from '../src/passes/pass.js';

setVerifyByDefault(true);
