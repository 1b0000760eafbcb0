// bench-editor: the editor's canvas under load, in Debian's Chromium against the release
// server (started by the task). A 4096×4096 source: pointer events handled while painting at
// fit zoom and at 100 %, one per animation frame (60 Hz, as a pen or mouse sends them) and a
// burst as fast as they come; then the time to export the mask as a PNG at the source's size.
// Prints a table; the numbers go in docs/BENCHMARKS.md. Usage: node bench/editor.mjs BASE_URL
import { chromium } from '@playwright/test';
import * as zlib from 'node:zlib';

const base = process.argv[2] ?? 'http://127.0.0.1:3300';

// A 4096×4096 PNG with detail everywhere (so decoding and drawing are not trivially cheap).
function png(width, height) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const i = row + 1 + x * 3;
      raw[i] = (x * 7 + y) & 255;
      raw[i + 1] = (y * 5 + (x >> 3)) & 255;
      raw[i + 2] = ((x ^ y) * 3) & 255;
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
await page.goto(`${base}/editor`);
await page.waitForSelector('html[data-hydrated="true"]');
await page.getByTestId('file-input').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: png(4096, 4096) });
await page.getByTestId('source-role').first().filter({ hasText: 'Editing' }).waitFor({ timeout: 60_000 });
await page.getByTestId('mask-canvas').scrollIntoViewIfNeeded();
await page.getByTestId('brush-size-number').fill('24');

/** Paints a stroke of `count` pointer events through the middle of the stage; `paced`: one per
 * animation frame, timing each from its event to the end of the frame that drew it; else a
 * burst, timing each handler alone. Milliseconds per event. */
async function stroke(count, paced) {
  return page.getByTestId('mask-canvas').evaluate(
    async (canvas, [count, paced]) => {
      const rect = canvas.getBoundingClientRect();
      const at = (i) => ({
        clientX: rect.left + rect.width * (0.2 + (0.6 * i) / count),
        clientY: rect.top + rect.height * (0.5 + 0.1 * Math.sin(i / 10)),
      });
      const fire = (type, i) =>
        canvas.dispatchEvent(new PointerEvent(type, { pointerId: 7, pointerType: 'pen', bubbles: true, cancelable: true, ...at(i) }));
      const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
      fire('pointerdown', 0);
      await frame();
      const times = [];
      for (let i = 1; i <= count; i++) {
        const t0 = performance.now();
        fire('pointermove', i);
        if (paced) {
          // The stage draws in its own animation-frame callback, queued by the handler; this
          // one runs after it.
          await frame();
        }
        times.push(performance.now() - t0);
      }
      fire('pointerup', count);
      await frame();
      return times;
    },
    [count, paced],
  );
}

const stats = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { median: q(0.5), p95: q(0.95), max: sorted[sorted.length - 1] };
};
const row = (name, times) => {
  const s = stats(times);
  const total = times.reduce((a, b) => a + b, 0);
  // Paced events take a frame each by design; a burst's rate is what the handler could take.
  const rate = total > 0 ? Math.round((times.length * 1000) / total) : Infinity;
  console.log(
    `| ${name} | ${times.length} | ${s.median.toFixed(2)} | ${s.p95.toFixed(2)} | ${s.max.toFixed(2)} | ${rate} |`,
  );
};

console.log('| case (4096×4096 source) | events | median ms | p95 ms | max ms | events/s |');
console.log('|---|---|---|---|---|---|');
await page.getByTestId('zoom-fit').click();
row('fit zoom, one event per frame (handler + redraw)', await stroke(120, true));
row('fit zoom, burst (handler alone)', await stroke(600, false));
await page.getByTestId('zoom-100').click();
row('100 %, one event per frame (handler + redraw)', await stroke(120, true));
row('100 %, burst (handler alone)', await stroke(600, false));

// Export: the click to the download's arrival, best of five.
const exports = [];
for (let i = 0; i < 5; i++) {
  const t0 = Date.now();
  const download = page.waitForEvent('download');
  await page.getByTestId('mask-export').click();
  await download;
  exports.push(Date.now() - t0);
}
console.log(`\nmask export (4096×4096 PNG, click to download): best ${Math.min(...exports)} ms, median ${stats(exports).median} ms`);
await browser.close();
