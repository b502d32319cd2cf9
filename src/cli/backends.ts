/** The backends `modc run --backend` can use: the one registry (src/backends/registry.ts). */
export { BACKEND_NAMES, BACKENDS, backendInfo, createExecutor } from '../backends/registry.js';
