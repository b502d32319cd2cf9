/**
 * Which PTX `.version` and `.target` a module is emitted for: the newest ISA the loading driver accepts
 * (cuDriverGetVersion), the device's compute capability, or explicit overrides, checked against what each
 * architecture needs. Version skew ("Unsupported .version") is the failure users of PTX emitters report most,
 * so every refusal says which versions would be accepted.
 */

/** A PTX ISA version as major * 10 + minor (7.8 is 78). */
export type PtxIsa = number;

export const isaText = (v: PtxIsa): string => `${Math.floor(v / 10)}.${v % 10}`;

/** The first CUDA release (cuDriverGetVersion units: 1000 * major + 10 * minor) that loads each ISA version. */
const ISA_FIRST_DRIVER: readonly (readonly [PtxIsa, number])[] = [
  [70, 11000], [71, 11010], [72, 11020], [73, 11030], [74, 11040], [75, 11050], [76, 11060], [77, 11070], [78, 11080],
  [80, 12000], [81, 12010], [82, 12020], [83, 12030], [84, 12040], [85, 12050], [86, 12070], [87, 12080], [88, 12090],
  [90, 13000],
];

/** What this renderer emits: ISA 7.0 (min.NaN, cvt.bf16) up to the newest version it knows. */
export const MIN_ISA: PtxIsa = 70;
export const MAX_ISA: PtxIsa = 90;
/** The offline default (no driver to ask): loads on every CUDA 11.8+ driver and targets sm_90. */
export const DEFAULT_ISA: PtxIsa = 78;
export const DEFAULT_SM = 80;

/** Architectures this renderer targets, with the first ISA version that knows each. */
export const SM_MIN_ISA: Readonly<Record<number, PtxIsa>> = {
  75: 63, 80: 70, 86: 71, 87: 74, 89: 78, 90: 78, 100: 86, 101: 86, 103: 88, 110: 90, 120: 87, 121: 88,
};

export class PtxTargetError extends Error {
  override name = 'PtxTargetError';
}

/** The newest ISA a driver loads, from cuDriverGetVersion (13000 for CUDA 13.0); undefined below CUDA 11.0. */
export function maxIsaForDriver(driverVersion: number): PtxIsa | undefined {
  let best: PtxIsa | undefined;
  for (const [isa, first] of ISA_FIRST_DRIVER) if (driverVersion >= first) best = isa;
  return best;
}

export const driverText = (v: number): string => `CUDA ${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;

export interface PtxTargetChoice {
  readonly isa: PtxIsa;
  readonly sm: number;
  /** `.version X.Y` */
  readonly version: string;
  /** `.target sm_XY` */
  readonly target: string;
  /** Features this pair enables in the renderer. */
  readonly features: PtxFeatures;
}

export interface PtxFeatures {
  /** min.NaN / max.NaN on f32 (sm_80, ISA 7.0). */
  readonly minMaxNaN: boolean;
  /** cvt.rn.bf16.f32 (sm_80, ISA 7.0). */
  readonly cvtBf16: boolean;
}

export interface PtxTargetRequest {
  /** cuDriverGetVersion of the driver that will JIT the module (absent offline). */
  readonly driverVersion?: number;
  /** The device's compute capability as major * 10 + minor (90 for an H100/H200). */
  readonly computeCapability?: number;
  /** --ptx-version override, '7.8' or 78. */
  readonly isa?: string | number;
  /** --sm override, 'sm_90', '90' or 90. */
  readonly sm?: string | number;
}

function parseIsa(v: string | number): PtxIsa {
  if (typeof v === 'number') return Number.isInteger(v) ? v : Math.round(v * 10);
  const m = /^\s*(\d+)\.(\d)\s*$/.exec(v);
  if (m === null) throw new PtxTargetError(`PTX ISA version '${v}' is not of the form X.Y (accepted: ${isaText(MIN_ISA)} - ${isaText(MAX_ISA)})`);
  return Number(m[1]) * 10 + Number(m[2]);
}

function parseSm(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(?:sm_?)?(\d+)\s*$/i.exec(v);
  if (m === null) throw new PtxTargetError(`target '${v}' is not of the form sm_XY (accepted: ${knownSms()})`);
  return Number(m[1]);
}

const knownSms = (): string => Object.keys(SM_MIN_ISA).map((s) => `sm_${s}`).join(', ');

/**
 * Chooses `.version` / `.target`. The target is the override, else the device's compute capability, else sm_80.
 * The version is the override, else the architecture's first ISA raised to 7.8 (the offline default) and lowered
 * to what the driver loads. Refuses any pair the driver, the architecture or this renderer cannot take, saying
 * which range would be accepted.
 */
export function choosePtxTarget(req: PtxTargetRequest = {}): PtxTargetChoice {
  const sm = req.sm !== undefined ? parseSm(req.sm) : (req.computeCapability ?? DEFAULT_SM);
  const smIsa = SM_MIN_ISA[sm];
  if (smIsa === undefined) throw new PtxTargetError(`sm_${sm} is not a target this renderer knows (accepted: ${knownSms()})`);
  const driverMax = req.driverVersion !== undefined ? maxIsaForDriver(req.driverVersion) : undefined;
  if (req.driverVersion !== undefined && driverMax === undefined)
    throw new PtxTargetError(`the driver is ${driverText(req.driverVersion)} (cuDriverGetVersion ${req.driverVersion}); PTX ISA ${isaText(MIN_ISA)} needs CUDA 11.0 or newer`);
  const hi = Math.min(MAX_ISA, driverMax ?? MAX_ISA);
  const lo = Math.max(MIN_ISA, smIsa);
  const range = `sm_${sm} takes PTX ISA ${isaText(lo)} - ${isaText(hi)}` + (driverMax !== undefined ? ` with this driver (${driverText(req.driverVersion ?? 0)} loads up to ${isaText(driverMax)})` : '');
  if (lo > hi)
    throw new PtxTargetError(
      driverMax !== undefined && driverMax < lo
        ? `sm_${sm} needs PTX ISA ${isaText(lo)} or newer, but the driver (${driverText(req.driverVersion ?? 0)}) loads at most ${isaText(driverMax)}: update the NVIDIA driver`
        : `sm_${sm} needs PTX ISA ${isaText(lo)} or newer; this renderer emits at most ${isaText(MAX_ISA)}`,
    );
  let isa: PtxIsa;
  if (req.isa !== undefined) {
    isa = parseIsa(req.isa);
    if (isa < lo || isa > hi) throw new PtxTargetError(`PTX ISA ${isaText(isa)} cannot be used for sm_${sm}: ${range}`);
  } else isa = Math.min(hi, Math.max(lo, DEFAULT_ISA));
  return {
    isa,
    sm,
    version: isaText(isa),
    target: `sm_${sm}`,
    features: { minMaxNaN: sm >= 80, cvtBf16: sm >= 80 },
  };
}

/**
 * The message for a JIT failure: the driver's log, and where it refused the ISA version, which version it takes.
 */
export function jitErrorMessage(kernel: string, log: string, choice: PtxTargetChoice, driverVersion: number | undefined): string {
  let msg = `cuModuleLoadDataEx failed for kernel '${kernel}' (.version ${choice.version}, .target ${choice.target})`;
  if (log.trim()) msg += `: ${log.trim()}`;
  if (/Unsupported \.version/i.test(log)) {
    // The JIT names the newest version it takes ("current version is '8.4'"); else go by the driver's release.
    const said = /current version is '(\d+)\.(\d)'/.exec(log);
    const max = said ? Number(said[1]) * 10 + Number(said[2]) : driverVersion !== undefined ? maxIsaForDriver(driverVersion) : undefined;
    const who = driverVersion !== undefined ? `the driver (${driverText(driverVersion)})` : 'the driver';
    msg += max !== undefined ? `; ${who} accepts PTX ISA up to ${isaText(max)}: compile with --ptx-version ${isaText(max)}` : `; ${who} is older than PTX ISA ${choice.version}: compile with an older --ptx-version`;
  }
  return msg;
}
