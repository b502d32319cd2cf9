/**
 * The PTX interpreter's decoded instruction set: one small integer per (operation, operand type) pair, so the
 * executor's switch does no type dispatch at run time. An instruction is STRIDE int32 words:
 * [op, guard, d, a, b, c, e, f, g, h], operands being register-file slots (immediates live in constant slots).
 */
export const STRIDE = 10;
/** Word offsets within an instruction. */
export const W = { op: 0, guard: 1, d: 2, a: 3, b: 4, c: 5, e: 6, f: 7, g: 8, h: 9 } as const;

let next = 0;
const o = (): number => next++;

export const Op = {
  // moves and selects
  MOV32: o(), MOV_N64: o(), MOV_D64: o(), MOV_N64_D64: o(), MOV_D64_N64: o(),
  PACK64_N: o(), PACK64_D: o(), UNPACK64_N: o(), UNPACK64_D: o(), PACK32: o(), UNPACK32: o(),
  SELP32: o(), SELP_N64: o(), SELP_D64: o(),
  // 32-bit integers
  ADD_I32: o(), SUB_I32: o(), MUL_LO_I32: o(), MUL_HI_S32: o(), MUL_HI_U32: o(), MAD_LO_I32: o(),
  DIV_S32: o(), DIV_U32: o(), REM_S32: o(), REM_U32: o(), MIN_S32: o(), MAX_S32: o(), MIN_U32: o(), MAX_U32: o(),
  NEG_S32: o(), ABS_S32: o(), AND32: o(), OR32: o(), XOR32: o(), NOT32: o(), NOT16: o(), NOT_PRED: o(),
  SHL32: o(), SHR_S32: o(), SHR_U32: o(), POPC32: o(), CLZ32: o(), BREV32: o(), LOP3: o(), PRMT: o(), BFE_U32: o(), BFE_S32: o(),
  // 64-bit integers (exact below 2^53)
  ADD_N64: o(), SUB_N64: o(), MUL_LO_N64: o(), MUL_WIDE_S32: o(), MUL_WIDE_U32: o(), MAD_WIDE_S32: o(), MAD_WIDE_U32: o(), MAD_LO_N64: o(),
  DIV_S64: o(), DIV_U64: o(), REM_S64: o(), REM_U64: o(), MIN_N64: o(), MAX_N64: o(), NEG_N64: o(),
  AND64: o(), OR64: o(), XOR64: o(), NOT64: o(), SHL64: o(), SHR_S64: o(), SHR_U64: o(),
  // f32
  ADD_F32: o(), SUB_F32: o(), MUL_F32: o(), DIV_F32: o(), FMA_F32: o(), NEG_F32: o(), ABS_F32: o(), SQRT_F32: o(), RCP_F32: o(), RSQRT_F32: o(),
  MIN_F32: o(), MAX_F32: o(), MIN_NAN_F32: o(), MAX_NAN_F32: o(), COPYSIGN_F32: o(),
  EX2_F32: o(), LG2_F32: o(), SIN_F32: o(), COS_F32: o(), TANH_F32: o(),
  // f64
  ADD_F64: o(), SUB_F64: o(), MUL_F64: o(), DIV_F64: o(), FMA_F64: o(), NEG_F64: o(), ABS_F64: o(), SQRT_F64: o(), RCP_F64: o(), RSQRT_F64: o(),
  MIN_F64: o(), MAX_F64: o(), COPYSIGN_F64: o(),
  // comparisons (c = comparison code, e = combine op, f = combine predicate)
  SETP_S32: o(), SETP_U32: o(), SETP_F32: o(), SETP_F64: o(), SETP_S64: o(), SETP_U64: o(), TESTP_F32: o(), TESTP_F64: o(),
  // conversions
  CVT_F32_S32: o(), CVT_F32_U32: o(), CVT_F64_S32: o(), CVT_F64_U32: o(), CVT_F32_N64: o(), CVT_F64_N64: o(),
  CVT_I32_F32: o(), CVT_I32_F64: o(), CVT_N64_F32: o(), CVT_N64_F64: o(),
  CVT_F64_F32: o(), CVT_F32_F64: o(), CVT_RI_F32: o(), CVT_RI_F64: o(),
  CVT_F16_F32: o(), CVT_F32_F16: o(), CVT_BF16_F32: o(), CVT_F32_BF16: o(), CVT_F64_F16: o(),
  CVT_INT32: o(), CVT_N64_I32: o(), CVT_I32_N64: o(),
  // memory (c = element kind, e = lanes, b = byte offset, a = address slot or -1; d, f, g, h = data slots)
  LD_GLOBAL: o(), ST_GLOBAL: o(), LD_SHARED: o(), ST_SHARED: o(), LD_GENERIC: o(), ST_GENERIC: o(), LD_PARAM: o(),
  CVTA_TO_SHARED: o(), CVTA_SHARED: o(),
  // control
  BRA: o(), BAR: o(), RET: o(), NOP: o(),
} as const;

/** Element kinds of loads and stores: the view and width of one element. */
export const Elem = { U8: 0, S8: 1, U16: 2, S16: 3, B32: 4, N64: 5, D64: 6, U64_AS_S32: 7 } as const;

/** Comparison codes of setp (ordered and unordered float forms, unsigned aliases map to the signed names). */
export const Cmp = { eq: 0, ne: 1, lt: 2, le: 3, gt: 4, ge: 5, equ: 6, neu: 7, ltu: 8, leu: 9, gtu: 10, geu: 11, num: 12, nan: 13 } as const;

/** Rounding of cvt to integral values: to nearest even, toward zero, down, up. */
export const Rnd = { rni: 0, rzi: 1, rmi: 2, rpi: 3 } as const;

/** Special registers with fixed slots at the start of the 32-bit file. */
export const SPECIAL_SLOTS: Readonly<Record<string, number>> = {
  '%tid.x': 0, '%tid.y': 1, '%tid.z': 2, '%ntid.x': 3, '%ntid.y': 4, '%ntid.z': 5,
  '%ctaid.x': 6, '%ctaid.y': 7, '%ctaid.z': 8, '%nctaid.x': 9, '%nctaid.y': 10, '%nctaid.z': 11,
  '%laneid': 12, '%warpid': 13, WARP_SZ: 14,
};
export const SPECIAL_COUNT = 15;

/** Generic addresses of the shared window (cvta.shared); global device memory starts at GLOBAL_BASE. */
export const SHARED_WINDOW = 2 ** 44;
export const GLOBAL_BASE = 2 ** 32;
