/**
 * The PTX interpreter's decoded instruction set: one small integer per (operation, operand type) pair, so the
 * executor's switch does no type dispatch at run time. An instruction is STRIDE int32 words:
 * [op, guard, d, a, b, c, e, f, g, h], operands being register-file slots (immediates live in constant slots).
 * The executor switches on these numbers as literals, each label followed by its name in a comment: only
 * Smi-literal labels compile to a jump table. test/backends/cuda-ptx/emu.test.ts checks every label against Op.
 */
export const STRIDE = 10;
/** Word offsets within an instruction. */
export const W = { op: 0, guard: 1, d: 2, a: 3, b: 4, c: 5, e: 6, f: 7, g: 8, h: 9 } as const;

export const Op = {
  // moves and selects
  MOV32: 0, MOV_N64: 1, MOV_D64: 2, MOV_N64_D64: 3, MOV_D64_N64: 4,
  PACK64_N: 5, PACK64_D: 6, UNPACK64_N: 7, UNPACK64_D: 8, PACK32: 9, UNPACK32: 10,
  SELP32: 11, SELP_N64: 12, SELP_D64: 13,
  // 32-bit integers
  ADD_I32: 14, SUB_I32: 15, MUL_LO_I32: 16, MUL_HI_S32: 17, MUL_HI_U32: 18, MAD_LO_I32: 19,
  DIV_S32: 20, DIV_U32: 21, REM_S32: 22, REM_U32: 23, MIN_S32: 24, MAX_S32: 25, MIN_U32: 26, MAX_U32: 27,
  NEG_S32: 28, ABS_S32: 29, AND32: 30, OR32: 31, XOR32: 32, NOT32: 33, NOT16: 34, NOT_PRED: 35,
  SHL32: 36, SHR_S32: 37, SHR_U32: 38, POPC32: 39, CLZ32: 40, BREV32: 41, LOP3: 42, PRMT: 43, BFE_U32: 44, BFE_S32: 45,
  // 64-bit integers (exact below 2^53)
  ADD_N64: 46, SUB_N64: 47, MUL_LO_N64: 48, MUL_WIDE_S32: 49, MUL_WIDE_U32: 50, MAD_WIDE_S32: 51, MAD_WIDE_U32: 52, MAD_LO_N64: 53,
  DIV_S64: 54, DIV_U64: 55, REM_S64: 56, REM_U64: 57, MIN_N64: 58, MAX_N64: 59, NEG_N64: 60,
  AND64: 61, OR64: 62, XOR64: 63, NOT64: 64, SHL64: 65, SHR_S64: 66, SHR_U64: 67,
  // f32
  ADD_F32: 68, SUB_F32: 69, MUL_F32: 70, DIV_F32: 71, FMA_F32: 72, NEG_F32: 73, ABS_F32: 74, SQRT_F32: 75, RCP_F32: 76, RSQRT_F32: 77,
  MIN_F32: 78, MAX_F32: 79, MIN_NAN_F32: 80, MAX_NAN_F32: 81, COPYSIGN_F32: 82,
  EX2_F32: 83, LG2_F32: 84, SIN_F32: 85, COS_F32: 86, TANH_F32: 87,
  // f64
  ADD_F64: 88, SUB_F64: 89, MUL_F64: 90, DIV_F64: 91, FMA_F64: 92, NEG_F64: 93, ABS_F64: 94, SQRT_F64: 95, RCP_F64: 96, RSQRT_F64: 97,
  MIN_F64: 98, MAX_F64: 99, COPYSIGN_F64: 100,
  // comparisons (c = comparison code, e = combine op, f = combine predicate)
  SETP_S32: 101, SETP_U32: 102, SETP_F32: 103, SETP_F64: 104, SETP_S64: 105, SETP_U64: 106, TESTP_F32: 107, TESTP_F64: 108,
  // conversions
  CVT_F32_S32: 109, CVT_F32_U32: 110, CVT_F64_S32: 111, CVT_F64_U32: 112, CVT_F32_N64: 113, CVT_F64_N64: 114,
  CVT_I32_F32: 115, CVT_I32_F64: 116, CVT_N64_F32: 117, CVT_N64_F64: 118,
  CVT_F64_F32: 119, CVT_F32_F64: 120, CVT_RI_F32: 121, CVT_RI_F64: 122,
  CVT_F16_F32: 123, CVT_F32_F16: 124, CVT_BF16_F32: 125, CVT_F32_BF16: 126, CVT_F64_F16: 127,
  CVT_INT32: 128, CVT_N64_I32: 129, CVT_I32_N64: 130,
  // memory (c = element kind, e = lanes, b = byte offset, a = address slot or -1; d, f, g, h = data slots)
  LD_GLOBAL: 131, ST_GLOBAL: 132, LD_SHARED: 133, ST_SHARED: 134, LD_GENERIC: 135, ST_GENERIC: 136, LD_PARAM: 137,
  CVTA_TO_SHARED: 138, CVTA_SHARED: 139,
  // control
  BRA: 140, BAR: 141, RET: 142, NOP: 143,
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
