/**
 * LLaVA-NeXT anyres geometry against values worked out from llava/mm_utils.py and llava_arch.py (grid choice with
 * its ties, resize-and-pad sizes, unpad regions, token counts), and the token count of the pipeline's output.
 */
import { type VisionConfig, visionTokenCount, zooModel } from '../../../models/index.js';
import { fitInside, type ImageSize, type Pinpoint, selectBestResolution, unpadRegion } from '../../../src/io/image/index.js';

const NEXT = zooModel('llava-next-7b').vision as VisionConfig;
const PINPOINTS = NEXT.gridPinpoints as Pinpoint[];
const size = (width: number, height: number): ImageSize => ({ width, height });

describe('select_best_resolution', () => {
  it('reads the LLaVA-NeXT pinpoints as (width, height)', () => {
    expect(PINPOINTS).toEqual([[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]);
  });

  /*
   * effective = min(int(w*s) * int(h*s), w*h) with s = min(W / w, H / h); wasted = W*H - effective. For example
   * 1000x500: (336,672) s=0.336 -> 336*168 = 56448; (672,336) s=0.672 -> 672*336 = 225792, wasted 0;
   * (672,672) s=0.672 -> 225792 but wasted 225792; (1008,336) s=0.672 -> 225792, wasted 112896 -> (672,336).
   * 337x673: (336,672) s=0.99703 -> 336*671 = 225456 < (672,672) s=0.99851 -> 336*672 = 225792 -> (672,672).
   */
  const table: [number, number, Pinpoint][] = [
    [336, 336, [336, 672]], // tie with (672,336) on effective and wasted area: the earlier candidate wins
    [100, 100, [336, 672]],
    [1, 1, [336, 672]],
    [672, 672, [672, 672]],
    [1000, 500, [672, 336]],
    [700, 350, [672, 336]],
    [500, 1000, [336, 672]],
    [800, 600, [672, 672]],
    [640, 480, [672, 672]],
    [1024, 768, [672, 672]],
    [1920, 1080, [672, 672]],
    [336, 1008, [336, 1008]],
    [1008, 336, [1008, 336]],
    [2000, 300, [1008, 336]],
    [300, 2000, [336, 1008]],
    [450, 1000, [336, 1008]],
    [337, 673, [672, 672]],
  ];
  it.each(table)('%i x %i -> %j', (w, h, want) => {
    expect(selectBestResolution(size(w, h), PINPOINTS)).toEqual(want);
  });

  it('breaks full ties by candidate order', () => {
    const reversed = [...PINPOINTS].reverse();
    // For 336x336 every candidate keeps 112896 pixels; (672,336) and (336,672) waste the least, 112896 each.
    expect(selectBestResolution(size(336, 336), reversed)).toEqual([672, 336]);
    expect(() => selectBestResolution(size(3, 3), [])).toThrow(/no candidate resolutions/);
    expect(() => selectBestResolution(size(0, 3), PINPOINTS)).toThrow(/image size must be positive integers, got 0x3/);
  });
});

describe('resize_and_pad_image and unpad_image geometry', () => {
  it('fits the image inside the chosen resolution (ceil on the scaled side, clamped)', () => {
    expect(fitInside(size(336, 336), [336, 672])).toEqual(size(336, 336));
    expect(fitInside(size(800, 600), [672, 672])).toEqual(size(672, 504));
    expect(fitInside(size(1920, 1080), [672, 672])).toEqual(size(672, 378));
    expect(fitInside(size(2000, 300), [1008, 336])).toEqual(size(1008, 152)); // ceil(300 * 0.504) = ceil(151.2)
    expect(fitInside(size(450, 1000), [336, 1008])).toEqual(size(336, 747)); // ceil(1000 * 0.74667) = 747
    expect(fitInside(size(337, 673), [672, 672])).toEqual(size(337, 672)); // ceil(337 * 0.998514) = 337
  });

  /*
   * Feature map H x W = (rows * 24) x (cols * 24). If W/H < w/h the map is cropped in height:
   * pad = (H - int(h * W / w)) // 2 rows off each side; else in width with pad = (W - int(w * H / h)) // 2.
   * 336x336 on a 1x2 grid (48 x 24): int(336 * 24/336) = 24, pad 12 -> rows [12, 36).
   * 2000x300 on 3x1 (24 x 72): int(300 * 0.036) = 10, pad 7 -> rows [7, 17).
   * 337x673 on 2x2 (48 x 48): 337/673 < 1 -> int(337 * 48/673) = 24, pad 12 -> cols [12, 36).
   */
  const table: [number, number, number, number, [number, number, number, number]][] = [
    [336, 336, 48, 24, [12, 36, 0, 24]],
    [672, 672, 48, 48, [0, 48, 0, 48]],
    [1000, 500, 24, 48, [0, 24, 0, 48]],
    [500, 1000, 48, 24, [0, 48, 0, 24]],
    [800, 600, 48, 48, [6, 42, 0, 48]],
    [1920, 1080, 48, 48, [10, 38, 0, 48]],
    [2000, 300, 24, 72, [7, 17, 0, 72]],
    [300, 2000, 72, 24, [0, 72, 7, 17]],
    [450, 1000, 72, 24, [9, 63, 0, 24]],
    [337, 673, 48, 48, [0, 48, 12, 36]],
  ];
  it.each(table)('%i x %i on a %i x %i map keeps rows/cols %j', (w, h, H, W, [r0, r1, c0, c1]) => {
    expect(unpadRegion(H, W, size(w, h))).toEqual({ rowStart: r0, rowEnd: r1, colStart: c0, colEnd: c1 });
  });
});

describe('vision token count N_v', () => {
  const LLAVA15 = zooModel('llava-1.5-7b').vision as VisionConfig;

  it('is 576 for LLaVA-1.5 whatever the image size', () => {
    for (const s of [size(336, 336), size(1000, 500), size(7, 3000)]) expect(visionTokenCount(s, LLAVA15)).toBe(576);
  });

  // 576 base tokens + h * (w + 1) for the unpadded h x w grid with one image_newline per row.
  const table: [number, number, number][] = [
    [336, 336, 576 + 24 * 25],
    [672, 672, 576 + 48 * 49],
    [1000, 500, 576 + 24 * 49],
    [500, 1000, 576 + 48 * 25],
    [800, 600, 576 + 36 * 49],
    [1920, 1080, 576 + 28 * 49],
    [2000, 300, 576 + 10 * 73],
    [300, 2000, 576 + 72 * 11],
    [336, 1008, 576 + 72 * 25],
    [450, 1000, 576 + 54 * 25],
  ];
  it.each(table)('LLaVA-NeXT %i x %i -> %i', (w, h, n) => {
    expect(visionTokenCount(size(w, h), NEXT)).toBe(n);
  });

  it('reaches 2928 at most for the 2x2 grid', () => {
    expect(visionTokenCount(size(672, 672), NEXT)).toBe(2928);
  });

  it('rejects configurations it cannot honour', () => {
    expect(() => visionTokenCount(size(10, 10), { ...NEXT, gridPinpoints: [[336, 500]] })).toThrow(/image_grid_pinpoints entry \[336, 500\] is not a multiple of the 336-pixel tile/);
    expect(() => visionTokenCount(size(10, 10), { ...NEXT, gridPinpoints: [] })).toThrow(/needs image_grid_pinpoints/);
    expect(() => visionTokenCount(size(10, 10), { ...NEXT, imageAspectRatio: 'anyres_max_9' })).toThrow("image_aspect_ratio 'anyres_max_9' is not supported (pad | square | anyres)");
    expect(() => visionTokenCount(size(10, 10), { ...NEXT, patchMergeType: 'flat' })).toThrow(/implemented with mm_patch_merge_type 'spatial_unpad'/);
    expect(() => visionTokenCount(size(10, 10), { ...NEXT, visionTower: 'google/siglip' })).toThrow(/vision tower 'google\/siglip' is not built in/);
  });
});
