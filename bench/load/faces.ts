/**
 * Camera frames from the shared face set: people with at least two photos. Each photo is framed
 * the way a person stands in front of a terminal camera (the face found by vision, cropped to a
 * 4:3 frame where the face is about 40% of the width, 640x480 JPEG), in several JPEG qualities
 * so that every frame of a flow has different bytes, as a real camera's frames do (auth refuses
 * a repeated frame as a replay).
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { loadCatalog } from '@faceline/testkit';

export interface Person {
  identity: string;
  photos: { path: string; frames: Buffer[] }[];
}

const FRAME_W = 640;
const FRAME_H = 480;
const QUALITIES = [92, 89, 86, 83, 80, 77];

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function largestFace(visionUrl: string, jpeg: Buffer): Promise<Box | undefined> {
  const res = await fetch(`${visionUrl}/v1/analyze?maxFaces=5&minFaceSize=20&embeddings=false`, {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg' },
    body: jpeg,
    signal: AbortSignal.timeout(20_000),
  });
  if (!res.ok) return undefined;
  const body = (await res.json()) as { faces: { box: Box }[] };
  return body.faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0]?.box;
}

async function frame(file: string, visionUrl: string): Promise<Buffer[] | undefined> {
  // EXIF orientation applied once, so boxes and crops refer to the same upright pixels
  const upright = await sharp(readFileSync(file)).rotate().jpeg({ quality: 95 }).toBuffer();
  const meta = await sharp(upright).metadata();
  const W = meta.width ?? 0;
  const H = meta.height ?? 0;
  const box = await largestFace(visionUrl, upright);
  if (!box || W === 0 || H === 0) return undefined;
  // crop: face ≈ 40% of the frame width, 4:3, centred on the face, clamped to the photo
  let cw = Math.min(W, Math.round(box.width / 0.4));
  let ch = Math.round((cw * FRAME_H) / FRAME_W);
  if (ch > H) {
    ch = H;
    cw = Math.min(W, Math.round((ch * FRAME_W) / FRAME_H));
  }
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const left = Math.max(0, Math.min(W - cw, Math.round(cx - cw / 2)));
  const top = Math.max(0, Math.min(H - ch, Math.round(cy - ch / 2)));
  const base = sharp(upright)
    .extract({ left, top, width: cw, height: ch })
    .resize(FRAME_W, FRAME_H, { fit: 'contain', background: { r: 0, g: 0, b: 0 } });
  const raw = await base.raw().toBuffer({ resolveWithObject: true });
  return Promise.all(
    QUALITIES.map((q) =>
      sharp(raw.data, { raw: { width: raw.info.width, height: raw.info.height, channels: raw.info.channels } })
        .jpeg({ quality: q })
        .toBuffer(),
    ),
  );
}

/**
 * People with ≥2 usable photos (kind `photo`, one-off `unknown` faces excluded), up to `max`,
 * most photos first so that enrollment and login can use different pictures.
 */
export async function preparePeople(visionUrl: string, max: number): Promise<Person[]> {
  const byId = new Map<string, string[]>();
  for (const e of loadCatalog()) {
    if (e.kind !== 'photo' || e.identity === 'unknown' || !e.identity) continue;
    byId.set(e.identity, [...(byId.get(e.identity) ?? []), e.file]);
  }
  const candidates = [...byId.entries()]
    .filter(([, files]) => files.length >= 2)
    .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  const people: Person[] = [];
  for (const [identity, files] of candidates) {
    if (people.length >= max) break;
    const photos: Person['photos'] = [];
    // four photos are plenty: one or two to enroll from, the rest to log in with
    for (const file of files.slice(0, 4)) {
      const frames = await frame(file, visionUrl).catch(() => undefined);
      if (frames) photos.push({ path: file, frames });
    }
    if (photos.length >= 2) people.push({ identity, photos });
  }
  return people;
}
