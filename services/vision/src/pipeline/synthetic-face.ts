/**
 * A synthetic 68-point face for tests: dlib's mean shape for landmarks 17..67 and a plausible jaw
 * line for 0..16, rotated (degrees, clockwise in image coordinates), scaled and shifted.
 */
import { applySimilarity, chipTemplate, type Pt } from './align.js';

export function syntheticFace(angleDeg: number, scale: number, tx: number, ty: number): Pt[] {
  const t = chipTemplate(1, 0);
  const jaw: Pt[] = Array.from({ length: 17 }, (_, i) => {
    const a = Math.PI * (i / 16);
    return [0.49 - 0.5 * Math.cos(a), 0.25 + 0.75 * Math.sin(a)] as Pt;
  });
  const a = (angleDeg * Math.PI) / 180;
  const m: [number, number, number, number] = [scale * Math.cos(a), scale * Math.sin(a), tx, ty];
  return [...jaw, ...t].map((p) => applySimilarity(m, p));
}
