/**
 * The real recordings in ../shared/faces/webcam and what their eyes do, frame by frame.
 *
 * The eye states were labelled by looking at eye-band crops of every frame (re-create them with
 * `npm run eval:antispoof -- --eye-sheets DIR`), not from any model's output. Frames are 0-based
 * at 30 fps (Chromium's fixed .mjpeg rate). "imageLeft" is the eye on the left of the picture (the
 * person's right eye). Frames not listed as open or closed are ambiguous (half-closed, squinting,
 * in transition) and are left out of the eye-state numbers.
 */
export type EyeSide = 'imageLeft' | 'imageRight';
export type EyeState = 'open' | 'closed' | 'ambiguous';

/** Split a Motion-JPEG stream (concatenated JPEG files) into its frames: SOI FFD8 … EOI FFD9. */
export function splitMjpeg(buf: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  const soi = Buffer.from([0xff, 0xd8, 0xff]);
  const eoi = Buffer.from([0xff, 0xd9]);
  for (let i = 0; ; ) {
    const start = buf.indexOf(soi, i);
    if (start < 0) break;
    // Entropy-coded data stuffs every 0xFF with 0x00, so FFD9 occurs only as the end marker
    // (these feeds carry no EXIF thumbnails, which would hold a nested pair).
    const end = buf.indexOf(eoi, start + 2);
    if (end < 0) break;
    frames.push(buf.subarray(start, end + 2));
    i = end + 2;
  }
  return frames;
}

type Ranges = readonly (readonly [number, number])[];

interface ClipLabels {
  file: string;
  note: string;
  frames: number;
  open: Record<EyeSide, Ranges>;
  closed: Record<EyeSide, Ranges>;
}

const both = (r: Ranges): Record<EyeSide, Ranges> => ({ imageLeft: r, imageRight: r });

export const CLIPS: Record<'d7' | 'franck', ClipLabels> = {
  d7: {
    file: 'webcam/anon_lp_d7_blink_480x480.mjpeg',
    note:
      "blink at frame 5; wink of the person's left eye (image right) 22-30 with the other eye shut too at 23-26; " +
      "wink of the person's right eye (image left) 43-56 while the other eye squints; both eyes closed 69-83 and " +
      '96-122 (2.3-4.1 s); wide-open eyes and frowns after 126',
    frames: 178,
    open: {
      imageLeft: [
        [0, 3],
        [8, 21],
        [29, 41],
        [58, 67],
        [86, 95],
        [126, 177],
      ],
      imageRight: [
        [0, 3],
        [8, 20],
        [32, 41],
        [54, 67],
        [86, 95],
        [126, 177],
      ],
    },
    closed: {
      imageLeft: [
        [5, 5],
        [23, 26],
        [43, 56],
        [69, 83],
        [96, 122],
      ],
      imageRight: [
        [5, 5],
        [22, 30],
        [68, 83],
        [96, 122],
      ],
    },
  },
  franck: {
    file: 'webcam/franck_talkingface_480x480.mjpeg',
    note:
      'eyes closed while laughing and looking down 123-152 (4.1-5.1 s), a slow blink 368-381 (12.3-12.7 s); ' +
      'the clip ends with the eyes reopening',
    frames: 390,
    open: both([
      [0, 117],
      [156, 365],
    ]),
    closed: both([
      [123, 152],
      [368, 381],
    ]),
  },
};

const inRanges = (r: Ranges, f: number) => r.some(([a, b]) => f >= a && f <= b);

export function eyeState(clip: keyof typeof CLIPS, frame: number, side: EyeSide): EyeState {
  const c = CLIPS[clip];
  if (inRanges(c.closed[side], frame)) return 'closed';
  if (inRanges(c.open[side], frame)) return 'open';
  return 'ambiguous';
}
