"""Writes test/fixtures/pil-bicubic.json: Pillow's BICUBIC resizes of small random RGB images, the golden data
for modc's PIL-compatible resampler. Run with a Python that has Pillow (Debian: apt-get install python3-pil):
    /usr/bin/python3 scripts/pil-golden.py
"""
import base64, json, random, sys
import PIL
from PIL import Image

rng = random.Random(20241204)
SOURCES = [(7, 5), (13, 9), (31, 17), (3, 1)]
TARGETS = {
    (7, 5): [(3, 2), (11, 7), (7, 10), (1, 1)],
    (13, 9): [(5, 4), (26, 18), (13, 4)],
    (31, 17): [(9, 5), (17, 31), (40, 3)],
    (3, 1): [(8, 1), (8, 4)],
}
cases = []
for (w, h) in SOURCES:
    src = bytes(rng.randrange(256) for _ in range(w * h * 3))
    im = Image.frombytes('RGB', (w, h), src)
    for (tw, th) in TARGETS[(w, h)]:
        out = im.resize((tw, th), Image.BICUBIC).tobytes()
        cases.append({'width': w, 'height': h, 'src': base64.b64encode(src).decode(), 'outWidth': tw, 'outHeight': th, 'out': base64.b64encode(out).decode()})
json.dump({'generator': f'scripts/pil-golden.py, Pillow {PIL.__version__}', 'cases': cases}, open('test/fixtures/pil-bicubic.json', 'w'), indent=1)
print(len(cases), 'cases', file=sys.stderr)
