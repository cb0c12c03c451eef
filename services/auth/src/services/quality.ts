/**
 * Quality gates on the vision report, turned into feedback the person can act on. Enrollment
 * is strict (frontal, sharp, lit, large enough); login frames during a challenge may be turned.
 */
import { FeedbackCode, type AnalyzeResponse, type Face, type FaceLocation } from '@faceline/contracts';

export interface QualityRules {
  minFaceSizePx: number;
  minSharpness: number;
  minBrightness: number;
  maxFrontalAngle: number;
}

export interface Assessment {
  /** the one face, when there is exactly one */
  face: Face | undefined;
  /** empty when the face passes every gate */
  problems: FeedbackCode[];
}

export function assessFaces(faces: Face[], rules: QualityRules, opts: { requireFrontal: boolean }): Assessment {
  if (faces.length === 0) return { face: undefined, problems: [FeedbackCode.NO_FACE] };
  if (faces.length > 1) return { face: undefined, problems: [FeedbackCode.MULTIPLE_FACES] };
  const face = faces[0] as Face;
  const q = face.quality;
  const problems: FeedbackCode[] = [];
  if (q.faceSizePx < rules.minFaceSizePx) problems.push(FeedbackCode.MOVE_CLOSER);
  if (q.brightness < rules.minBrightness) problems.push(FeedbackCode.TOO_DARK);
  if (q.sharpness < rules.minSharpness) problems.push(FeedbackCode.BLURRY);
  if (opts.requireFrontal && !isFrontal(face, rules.maxFrontalAngle)) problems.push(FeedbackCode.LOOK_STRAIGHT);
  if (face.embedding?.length !== 128) problems.push(FeedbackCode.NO_FACE);
  return { face, problems };
}

export function isFrontal(face: Face, maxAngle: number): boolean {
  return Math.abs(face.quality.yaw) <= maxAngle && Math.abs(face.quality.pitch) <= maxAngle;
}

/**
 * Where the one face of a frame is, for the browser's overlay: whole pixels of the frame as
 * analysed. Nothing when there is no single face (the guide frame is drawn instead).
 */
export function faceLocation(report: Pick<AnalyzeResponse, 'faces' | 'image'>): FaceLocation {
  if (report.faces.length !== 1) return {};
  const b = (report.faces[0] as Face).box;
  return {
    box: { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) },
    frameSize: { width: report.image.width, height: report.image.height },
  };
}
