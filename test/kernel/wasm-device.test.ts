/** The kernel cases on the Wasm Device (through the Device interface, 2 threads). */
import { WasmDevice } from '../../src/backends/wasm/device.js';
import { describeDeviceCases } from './device-suite.js';

describeDeviceCases('wasm', () => Promise.resolve(new WasmDevice({ threads: 2, startWorkers: true })));
