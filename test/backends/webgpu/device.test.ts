/** The shared kernel cases on the WebGPU Device over Dawn (llvmpipe here); MODC_REQUIRE_WEBGPU=1 turns a missing adapter into a failure. */
import { describeDeviceCases } from '../../kernel/device-suite.js';
import { openDawnOrWhy } from './dawn.js';
import { WEBGPU_SKIPS } from './skips.js';

describeDeviceCases('webgpu', openDawnOrWhy, { requireFlag: 'MODC_REQUIRE_WEBGPU', skip: WEBGPU_SKIPS });
