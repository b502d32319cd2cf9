/** The shared kernel suite on ptx-emu: every kernel rendered to PTX and the PTX text interpreted. */
import { PtxEmuDevice } from '../../../src/backends/cuda-ptx/emu-device.js';
import { describeDeviceCases } from '../../kernel/device-suite.js';

describeDeviceCases('ptx-emu', () => Promise.resolve(new PtxEmuDevice()));
