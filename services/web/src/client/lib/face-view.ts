/**
 * The camera stage shared by enrollment, login and kiosk: mirrored video, the overlay
 * canvas, a spoken hint and a progress bar.
 */
import type { ChallengeStep, FaceLocation, FeedbackCode } from '@faceline/contracts';
import { h } from './dom.js';
import { arrowFor, drawOverlay, toneFor, type Tone } from './overlay.js';

export interface FaceView {
  el: HTMLElement;
  video: HTMLVideoElement;
  update: (opts: {
    feedback?: readonly FeedbackCode[];
    step?: ChallengeStep;
    hint?: string;
    progress?: number;
    progressLabel?: string;
    tone?: Tone;
    /** the face box the server reported for the latest frame */
    face?: FaceLocation;
  }) => void;
  setActive: (active: boolean) => void;
}

export function createFaceView(label: string, opts: { large?: boolean } = {}): FaceView {
  const video = h('video', { class: 'mirror', muted: true, playsinline: true, autoplay: true, 'aria-label': label });
  const canvas = h('canvas', { class: 'overlay mirror', 'aria-hidden': 'true' });
  const hint = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' });
  const progress = h('progress', { class: 'captures', max: 100, value: 0, hidden: true });
  const stage = h('div', { class: 'stage', hidden: true }, video, canvas);
  const el = h('div', { class: opts.large ? 'face-view large' : 'face-view' }, stage, hint, progress);

  let last: Parameters<FaceView['update']>[0] = {};
  const redraw = () => {
    drawOverlay(canvas, {
      tone: last.tone ?? toneFor(last.feedback ?? []),
      arrow: arrowFor(last.step ?? last.feedback?.[0]),
      progress: last.progress,
      face: last.face,
    });
  };
  const onResize = () => redraw();
  window.addEventListener('resize', onResize);

  return {
    el,
    video,
    update(next) {
      last = next;
      if (next.hint !== undefined && hint.textContent !== next.hint) hint.textContent = next.hint;
      if (next.progress !== undefined) {
        progress.hidden = false;
        progress.value = Math.round(next.progress * 100);
        if (next.progressLabel) progress.setAttribute('aria-label', next.progressLabel);
        progress.setAttribute('aria-valuetext', next.progressLabel ?? `${progress.value}%`);
      }
      if (!stage.hidden) redraw();
    },
    setActive(active) {
      stage.hidden = !active;
      if (!active) {
        progress.hidden = true;
        window.removeEventListener('resize', onResize);
      } else {
        window.addEventListener('resize', onResize);
        requestAnimationFrame(redraw);
      }
    },
  };
}
