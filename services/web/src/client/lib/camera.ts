/** The camera: open it, say precisely why it cannot be opened, and stop it. */
import type { CameraProblem } from '../i18n/index.js';

export class CameraError extends Error {
  constructor(
    readonly problem: CameraProblem,
    options?: { cause?: unknown },
  ) {
    super(`camera: ${problem}`, options);
    this.name = 'CameraError';
  }
}

/** getUserMedia reports problems as DOMException names; browsers disagree on a few. */
export function classifyCameraError(err: unknown, secureContext: boolean): CameraProblem {
  if (err instanceof CameraError) return err.problem;
  const name = (err as { name?: unknown } | null)?.name;
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
      return 'denied';
    case 'SecurityError':
      return secureContext ? 'denied' : 'insecure';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
    case 'ConstraintNotSatisfiedError':
      return 'not-found';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'in-use';
    case 'TypeError':
      return secureContext ? 'unsupported' : 'insecure';
    default:
      return 'failed';
  }
}

export async function openCamera(video: HTMLVideoElement, idealWidth = 640): Promise<MediaStream> {
  const secure = window.isSecureContext;
  if (!secure) throw new CameraError('insecure');
  if (!navigator.mediaDevices?.getUserMedia) throw new CameraError('unsupported');
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: 'user', width: { ideal: idealWidth }, height: { ideal: Math.round((idealWidth * 3) / 4) } },
    });
  } catch (err) {
    throw new CameraError(classifyCameraError(err, secure), { cause: err });
  }
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  try {
    await video.play();
    if (!video.videoWidth) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no video frames')), 5000);
        video.addEventListener(
          'loadedmetadata',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
  } catch (err) {
    stopCamera(video);
    throw new CameraError('failed', { cause: err });
  }
  return stream;
}

export function stopCamera(video: HTMLVideoElement | null | undefined): void {
  const stream = video?.srcObject;
  if (stream && typeof (stream as MediaStream).getTracks === 'function') {
    for (const track of (stream as MediaStream).getTracks()) track.stop();
  }
  if (video) video.srcObject = null;
}
