/**
 * Eye-openness measures from human's 468-point face mesh and its iris model (10 more points,
 * 468-477), and the eye aspect ratio of the 68-point face-api landmarks the vision service uses.
 * Every measure is "higher = more open" (irisAspect: "higher = rounder iris").
 */
export type P = readonly (number | undefined)[];

const dist = (a: P, b: P) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);

/** MediaPipe mesh indices for one eye: corners, three upper/lower lid pairs, the wider border human's gesture code uses. */
const MESH_EYES = [
  {
    corners: [33, 133],
    lids: [
      [160, 144],
      [159, 145],
      [158, 153],
    ],
    border: [223, 230],
  },
  {
    corners: [362, 263],
    lids: [
      [385, 380],
      [386, 374],
      [387, 373],
    ],
    border: [443, 450],
  },
] as const;

export interface MeshEye {
  /** mean of the three lid gaps / corner-to-corner width (an eye aspect ratio on the mesh) */
  meshEar: number;
  /** human's own blink rule (gesture.ts): centre lid gap / height of the wider eye border; "blink" below 0.2 */
  humanBlink: number;
  /** centre lid gap / the iris model's horizontal iris diameter (how much of an iris fits between the lids) */
  lidOverIris: number | null;
  /** iris model: vertical / horizontal iris diameter (a real iris is round; a squashed photo's is not) */
  irisAspect: number | null;
  /** eye centre (corner midpoint), to tell the picture's left eye from its right */
  cx: number;
  cy: number;
}

/** Both eyes from one face's mesh, ordered [imageLeft, imageRight]. `mesh` has 468 or 478 points. */
export function meshEyes(mesh: readonly P[]): [MeshEye, MeshEye] {
  const irises = mesh.length >= 478 ? [mesh.slice(468, 473), mesh.slice(473, 478)] : [];
  const eyes = MESH_EYES.map((e) => {
    const [c0, c1] = [mesh[e.corners[0]]!, mesh[e.corners[1]]!];
    const width = dist(c0, c1);
    const gaps = e.lids.map(([u, l]) => dist(mesh[u]!, mesh[l]!));
    const centreGap = gaps[1]!;
    const cx = (c0[0]! + c1[0]!) / 2,
      cy = (c0[1]! + c1[1]!) / 2;
    // the iris whose centre lies nearest this eye's corner midpoint (points: centre, right, above, left, below)
    const iris = irises.sort((a, b) => Math.hypot(a[0]![0]! - cx, a[0]![1]! - cy) - Math.hypot(b[0]![0]! - cx, b[0]![1]! - cy))[0];
    const irisW = iris ? dist(iris[1]!, iris[3]!) : 0;
    const irisH = iris ? dist(iris[2]!, iris[4]!) : 0;
    return {
      meshEar: gaps.reduce((a, b) => a + b, 0) / (3 * width),
      humanBlink: Math.abs(mesh[e.lids[1][1]]![1]! - mesh[e.lids[1][0]]![1]!) / Math.abs(mesh[e.border[0]]![1]! - mesh[e.border[1]]![1]!),
      lidOverIris: irisW > 0 ? centreGap / irisW : null,
      irisAspect: irisW > 0 ? irisH / irisW : null,
      cx,
      cy,
    };
  });
  return (eyes[0]!.cx <= eyes[1]!.cx ? [eyes[0]!, eyes[1]!] : [eyes[1]!, eyes[0]!]) as [MeshEye, MeshEye];
}

/** Eye aspect ratio (Soukupová & Čech) of the 68-point layout: 36-41 is the picture's left eye, 42-47 its right. */
export function faceApiEars(lm: readonly P[]): [number, number] {
  const ear = (o: number) => (dist(lm[o + 1]!, lm[o + 5]!) + dist(lm[o + 2]!, lm[o + 4]!)) / (2 * dist(lm[o]!, lm[o + 3]!));
  return [ear(36), ear(42)];
}
