/** The backends `modc run --backend` can use, by name. Each backend registers one factory here. */
import { referenceExecutor } from '../backends/reference/index.js';
export const BACKEND_FACTORIES = {
    reference: () => Promise.resolve(referenceExecutor()),
};
export const BACKEND_NAMES = Object.keys(BACKEND_FACTORIES);
export async function createExecutor(name) {
    const f = BACKEND_FACTORIES[name];
    if (f === undefined)
        throw new Error(`unknown backend '${name}' (available: ${BACKEND_NAMES.join(', ')})`);
    return f();
}
