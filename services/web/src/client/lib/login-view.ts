import type { LoginState } from '../flows/login.js';
import { loginInstruction } from '../flows/login.js';
import { format } from '../i18n/index.js';
import type { AppContext } from './context.js';
import type { FaceView } from './face-view.js';

/** Turns a login state into words and overlay hints; shared with the kiosk page. */
export function showLoginState(state: LoginState, view: FaceView, ctx: AppContext): void {
  const { m } = ctx;
  switch (state.phase) {
    case 'camera':
      view.update({ hint: m.camera.starting });
      break;
    case 'connecting':
      view.update({ hint: m.camera.connecting });
      break;
    case 'scanning': {
      const ins = loginInstruction(state);
      const total = state.steps;
      const progress = total > 0 ? state.stepsCompleted / total : undefined;
      const progressLabel = total > 0 ? format(m.login.step, { n: Math.min(state.stepsCompleted + 1, total), total }) : undefined;
      const face = state.face;
      if (ins.kind === 'step')
        view.update({
          step: ins.step,
          feedback: state.feedback,
          hint: `${format(m.login.step, { n: ins.index + 1, total: ins.total })}: ${m.steps[ins.step]}`,
          progress,
          progressLabel,
          face,
        });
      else if (ins.kind === 'feedback')
        view.update({ feedback: state.feedback, hint: m.feedback[ins.code], progress, progressLabel, face });
      else view.update({ feedback: [], hint: m.login.scanning, progress, progressLabel, face });
      break;
    }
    case 'verifying':
    case 'signing-in':
      view.update({ tone: 'done', hint: m.login.checking });
      break;
    case 'confirming':
      view.update({ tone: 'done', hint: m.login.confirmPasskey });
      break;
    default:
      break;
  }
}
