/**
 * Maps faces found on a downscaled copy back to source-image pixels, so that callers never see
 * the analysis resolution.
 */
import type { Face } from '@faceline/contracts';

export function facesToSource(faces: Face[], scaleX: number, scaleY: number): Face[] {
  if (scaleX === 1 && scaleY === 1) return faces;
  return faces.map((f) => ({
    ...f,
    box: { x: f.box.x * scaleX, y: f.box.y * scaleY, width: f.box.width * scaleX, height: f.box.height * scaleY },
    landmarks: f.landmarks.map(([x, y]) => [x * scaleX, y * scaleY] as [number, number]),
    quality: { ...f.quality, faceSizePx: f.quality.faceSizePx * Math.min(scaleX, scaleY) },
  }));
}

/** minFaceSize is given in source pixels; the pipeline measures analysed pixels. */
export function minFaceSizeForAnalysis(minFaceSize: number, scaleX: number, scaleY: number): number {
  return minFaceSize / Math.max(scaleX, scaleY);
}
