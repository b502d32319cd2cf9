/** .version / .target selection: offline defaults, from the driver and device, overrides, and the refusals. */
import { describe, expect, it } from '@jest/globals';
import { choosePtxTarget, jitErrorMessage, maxIsaForDriver } from '../../../src/backends/cuda-ptx/isa.js';
import { ptxTarget, SM80_DEFAULT_LIMITS } from '../../../src/backends/cuda-ptx/target.js';

describe('choosePtxTarget', () => {
  it('offline: ISA 7.8 for sm_80', () => {
    const c = choosePtxTarget();
    expect([c.version, c.target, c.features.minMaxNaN]).toEqual(['7.8', 'sm_80', true]);
  });
  it('from the driver and the device: an H200 on CUDA 12.4 gets 7.8 / sm_90; an old driver lowers the ISA', () => {
    expect(choosePtxTarget({ driverVersion: 12040, computeCapability: 90 })).toMatchObject({ version: '7.8', target: 'sm_90' });
    expect(choosePtxTarget({ driverVersion: 11020, computeCapability: 80 })).toMatchObject({ version: '7.2', target: 'sm_80' });
    expect(choosePtxTarget({ driverVersion: 12080, computeCapability: 120 })).toMatchObject({ version: '8.7', target: 'sm_120' });
    expect(maxIsaForDriver(13000)).toBe(90);
    expect(maxIsaForDriver(10020)).toBeUndefined();
  });
  it('overrides are checked against the architecture and the driver', () => {
    expect(choosePtxTarget({ isa: '8.4', sm: 'sm_90' })).toMatchObject({ version: '8.4', target: 'sm_90' });
    expect(() => choosePtxTarget({ isa: '7.2', sm: 'sm_90' })).toThrow('PTX ISA 7.2 cannot be used for sm_90: sm_90 takes PTX ISA 7.8 - 9.0');
    expect(() => choosePtxTarget({ isa: '9.1' })).toThrow('PTX ISA 9.1 cannot be used for sm_80: sm_80 takes PTX ISA 7.0 - 9.0');
    expect(() => choosePtxTarget({ isa: '8.5', driverVersion: 12040 })).toThrow('sm_80 takes PTX ISA 7.0 - 8.4 with this driver (CUDA 12.4 loads up to 8.4)');
    expect(() => choosePtxTarget({ sm: 'sm_70' })).toThrow(/sm_70 is not a target this renderer knows \(accepted: sm_75, sm_80, .*sm_90/);
    expect(() => choosePtxTarget({ isa: 'seven' })).toThrow("PTX ISA version 'seven' is not of the form X.Y (accepted: 7.0 - 9.0)");
  });
  it('a driver too old for the device is refused, naming what it loads', () => {
    expect(() => choosePtxTarget({ driverVersion: 11040, computeCapability: 90 })).toThrow('sm_90 needs PTX ISA 7.8 or newer, but the driver (CUDA 11.4) loads at most 7.4: update the NVIDIA driver');
  });
});

describe('jitErrorMessage', () => {
  it('says which ISA the driver accepts when the JIT refuses the version', () => {
    const c = choosePtxTarget({ isa: '9.0' });
    const msg = jitErrorMessage('mm', "ptxas application ptx input, line 9; fatal   : Unsupported .version 9.0; current version is '8.4'", c, 12040);
    expect(msg).toContain("cuModuleLoadDataEx failed for kernel 'mm' (.version 9.0, .target sm_80)");
    expect(msg).toContain('the driver (CUDA 12.4) accepts PTX ISA up to 8.4: compile with --ptx-version 8.4');
  });
});

describe('ptxTarget', () => {
  it('GPU schedules, sm_80 limits, no aliased bindings (ld.global.nc)', () => {
    const t = ptxTarget();
    expect(t.name).toBe('ptx');
    expect(t.device).toContain('.target sm_80, PTX ISA 7.8');
    expect(t.limits.sharedBytes).toBe(SM80_DEFAULT_LIMITS.sharedBytesPerBlock);
    expect(t.caps.aliasedBindings).toBe(false);
    expect(t.schedules.matmul.kind).toBe('gpu-tiled');
    expect(t.schedules.rows.kind).toBe('workgroup');
  });
});
